"""Train: fit a translator on a labelled dataset and method(s), save it, and select it for the other pages."""

from __future__ import annotations

import re
import time
from pathlib import Path

import streamlit as st

from ugrn_app import state
from ugrn_core import api

state.setup_page("Train", "🏋️")
state.sidebar_summary()
ss = st.session_state
st.title("🏋️ Train a translator")
st.caption(
    "The translator is a small MLP per method that maps the foundation model's probe features of a TF→target "
    "pair to a regulation probability. Train it on a dataset with a known network; it then predicts on any "
    "gene set. An ensemble ("
    + ", ".join(f"{s.name} = {' + '.join(s.members)}" for s in api.methods.all_specs() if s.members)
    + ") trains its members."
)

names = state.list_datasets_cached()
labelled = {k: k for k in names}
labelled.update({state.dataset_label(k): k for k, d in ss.get("uploads", {}).items() if d.has_ground_truth})
if not labelled:
    st.error(
        "No labelled dataset available: add BEELINE data (UGRN_DATA_DIR) or upload genes with known edges on Home."
    )
    st.stop()
trainable = [s.name for s in api.methods.all_specs() if s.uses_translator]
# Default: a labelled dataset other than the one the pages predict on (training on the network that is then predicted
# only echoes it back and measures nothing); the paper's training set first.
predicted = state.dataset_label(ss["dataset_key"])
others = [k for k in labelled if k != predicted]
default_ds = next((k for k in ("STRING/hESC/500", "STRING/mHSC-GM/500") if k in others), others[0] if others else predicted)

with st.form("train_form"):
    c1, c2 = st.columns(2)
    ds_label = c1.selectbox(
        "Training dataset (needs a known network)",
        list(labelled),
        index=list(labelled).index(default_ds),
        key="train_ds",
        help=f"Pick a dataset other than the one the pages predict on ({predicted}): a translator trained on the "
        "network it is then asked to predict repeats that network, which measures nothing.",
    )
    methods = c2.multiselect(
        "Methods",
        trainable,
        default=[m for m in (api.DEFAULT_METHOD,) if m in trainable],
        key="train_methods",
        help=state.method_help(trainable),
    )
    c3, c4, c5 = st.columns(3)
    epochs = c3.number_input("Epochs", 1, 500, 50, key="train_epochs")
    np_ratio = c4.number_input("Negatives per positive", 1.0, 10.0, 1.0, 1.0, key="train_np")
    seed = c5.number_input("Seed", 0, 10_000, 0, key="train_seed")
    default_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", ds_label)
    name = st.text_input(
        "Save as (folder name under results/translators/)", value="", key="train_name", placeholder=default_name
    )
    submitted = st.form_submit_button("▶ Train", type="primary")

if ds_label == predicted:
    st.warning(
        f"**{ds_label} is also the dataset the Gene pair and Network pages predict on.** A translator trained on it "
        "has seen the very edges it is then asked to find, so its predictions there measure nothing. Train on "
        "another labelled dataset (the paper trains on STRING/hESC/500), or change the predicted dataset on Home."
    )

if submitted:
    ds_key = labelled[ds_label]
    fit = api.projectors_needed(methods)  # an ensemble brings its members
    folder_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name.strip() or f"{default_name}_{'-'.join(fit)}")
    out = state.TRANSLATOR_DIR / folder_name
    try:
        ds = state.get_dataset(ds_key)
    except Exception as e:
        st.error(f"Could not load the dataset '{ds_label}': {e}")
        st.stop()
    needs_expr = [m for m in fit if api.methods.get(m).needs_expression]
    if not fit:
        st.error("Choose at least one method.")
    elif needs_expr and not ds.has_expression:
        st.error(f"{', '.join(needs_expr)} need expression data, which {ds_label} does not have.")
    elif not ds.has_ground_truth:
        st.error(f"{ds_label} has no known network to learn from.")
    elif not state.check_output(out, "folder", "translator folder"):  # before training: the save must succeed
        pass
    else:
        try:
            fm = state.get_model(ss["ckpt_path"])
            bar, cb = state.progress_callback(f"Training {', '.join(fit)} on {ds_label}")
            t0 = time.perf_counter()
            with state.warnings_shown():
                tr = api.train_translator(
                    fm, ds, methods=tuple(fit), np_ratio=float(np_ratio), seed=int(seed), epochs=int(epochs),
                    progress=cb,
                )
            bar.empty()
            tr.save(out)
            ss["translator_path"] = str(out)
            ss["home_translator"] = f"saved: {out.name}"
            ss["train_last"] = (str(out), ds_label, list(tr.methods), time.perf_counter() - t0)
        except ValueError as e:
            st.error(str(e))

if ss.get("train_last"):
    out, ds_label, trained, secs = ss["train_last"]
    st.success(
        f"Trained {', '.join(trained)} on {ds_label} in {secs:.0f} s and saved to `{out}`. It is now the "
        "selected translator (change it on Home)."
    )
    if "network" in state.NAV:
        st.page_link(state.NAV["network"], label="See its predicted network", icon="🕸️")

saved = {k: v for k, v in state.saved_translators().items() if v}
with st.expander(f"Saved translators ({len(saved)})", expanded=bool(saved)):
    if not saved:
        st.caption("None yet.")
    for label, path in saved.items():
        st.markdown(f"- `{Path(path).name}` — {path}")
