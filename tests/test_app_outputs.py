"""The app's save field and its warnings (issue 24): a translator folder that cannot be written is refused before
training, with one message naming it, and nothing is created; ugrn_core's warnings show as ``st.warning`` boxes."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from ugrn_app import state

APP = Path(__file__).resolve().parents[1] / "app.py"


def test_train_refuses_a_translator_folder_that_cannot_be_written(tmp_path, monkeypatch):
    """Translators go to TRANSLATOR_DIR/<name>; with TRANSLATOR_DIR under a regular file the Train page says so
    before any training (no progress bar, no model call needed) and leaves nothing behind."""
    (tmp_path / "afile").write_text("keep me\n")
    monkeypatch.setattr(state, "TRANSLATOR_DIR", tmp_path / "afile" / "translators")
    at = AppTest.from_file(str(APP), default_timeout=300)
    at.switch_page("app_pages/4_Train.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.multiselect(key="train_methods").set_value(["Emb"])
    at.text_input(key="train_name").set_value("mine")
    at.button(key="FormSubmitter:train_form-▶ Train").click().run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert errors == [f"translator folder '{tmp_path / 'afile' / 'translators' / 'mine'}': cannot create folder "
                      f"'{tmp_path / 'afile' / 'translators'}': '{tmp_path / 'afile'}' is a file, not a folder; "
                      "expected a folder to write into"], errors
    assert "train_last" not in at.session_state and not at.success
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"] and (tmp_path / "afile").read_text() == "keep me\n"


def _warning_script():
    import warnings

    from ugrn_app import state

    with state.warnings_shown():
        warnings.warn("mapped 5/8 genes\n   (62.5%); 3 unmapped: GATA1")
        warnings.warn("mapped 5/8 genes (62.5%); 3 unmapped: GATA1")  # the same after collapsing: shown once
        warnings.warn("no Label.csv in 'x'; the known edges (labels) are taken from BL--network.csv (2 edges)")


def test_warnings_show_as_st_warning_one_line_each():
    at = AppTest.from_function(_warning_script).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [w.value for w in at.warning] == [
        "mapped 5/8 genes (62.5%); 3 unmapped: GATA1",
        "no Label.csv in 'x'; the known edges (labels) are taken from BL--network.csv (2 edges)",
    ]


def test_check_output_shows_the_reason(tmp_path):
    """``state.check_output`` is what the pages call: False and an st.error naming the path for a folder where a
    file goes; True for a writable place."""
    def script(path: str, ok_path: str):
        from ugrn_app import state

        assert state.check_output(ok_path, "folder", "results folder")
        state.check_output(path, "file", "output")

    (tmp_path / "adir.tsv").mkdir()
    at = AppTest.from_function(script, args=(str(tmp_path / "adir.tsv"), str(tmp_path / "new" / "run"))).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [f"output '{tmp_path / 'adir.tsv'}' is an existing folder; expected a "
                                           "file name"]
    assert not (tmp_path / "new").exists()
