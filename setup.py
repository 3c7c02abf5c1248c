"""Packaging beyond what pyproject.toml's table can say: ship <repo>/assets inside the wheel as ``ugrn_core/assets``.

Everything else (name, version, dependencies, extras, the ``ugrn`` script) is in pyproject.toml. The bundled model
assets (compact scGPT checkpoint, default translator, default benchmark, paper tables; ~11 MB) stay where the
source checkout, the Makefile and the docs expect them (``assets/``) and are mapped onto the package here, so an
installed wheel finds them next to the code (see ``ugrn_core.config.ASSETS_DIR``).
"""

from setuptools import find_namespace_packages, find_packages, setup

# every folder under assets/ becomes a data-only package ugrn_core.assets.<folder> (setuptools treats data folders
# as packages; naming them avoids its "package would be ignored" warnings)
ASSET_PACKAGES = ["ugrn_core.assets"] + [f"ugrn_core.assets.{p}" for p in find_namespace_packages(where="assets")]

setup(
    packages=find_packages(include=["ugrn_core", "ugrn_core.*", "ugrn_app", "ugrn_app.*"]) + ASSET_PACKAGES,
    package_dir={"ugrn_core.assets": "assets"},
    package_data={p: ["*"] for p in ASSET_PACKAGES},
)
