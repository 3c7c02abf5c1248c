"""Home: choose the foundation model, the dataset (BEELINE or an upload) and the translator; see what is cached.

The choices live in ``st.session_state`` (see ``ugrn_app.state``) and are shared by every page. No science here:
uploads are assembled by ``api.dataset_from_files``, the same call ``ugrn predict`` makes.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ugrn_app import cells as cells_ui
from ugrn_app import state
from ugrn_core import api

state.setup_page("Home")
ss = st.session_state


st.title("🧬 UGRN explorer")
st.markdown(
    "Predict **which transcription factor regulates which gene** for any gene set — even genes and cell types the "
    "predictor never saw. A frozen single-cell foundation model (a compact scGPT) is probed with *virtual cells*: "
    "**VVP** sets the regulator to a range of virtual expression values and records how the model's reconstruction "
    "of the target responds; **GDT** follows the gradient of the target's output with respect to the regulator. "
    "A small *translator* trained on a known network turns these probes into regulation probabilities."
)
st.caption(
    "Pick the model, dataset and translator below; then open **Gene pair**, **Network**, **Benchmark** or "
    "**Train** in the sidebar. Your choices are kept while you move between pages."
)

# ------------------------------------------------------------------------------------------------ 1 model
st.header("1 · Foundation model")
BUNDLED_CKPT, FOLDER_CKPT = "Bundled compact scGPT", "Folder with an official scGPT checkpoint"
ss.setdefault("home_ckpt_mode", FOLDER_CKPT if ss["ckpt_path"] else BUNDLED_CKPT)
ss.setdefault("home_ckpt_folder", ss["ckpt_path"])
mode = st.radio(
    "Checkpoint",
    [BUNDLED_CKPT, FOLDER_CKPT],
    key="home_ckpt_mode",
    horizontal=True,
    help="An official scGPT checkpoint folder holds args.json, vocab.json and best_model.pt.",
)
if mode == FOLDER_CKPT:
    folder = st.text_input(
        "Checkpoint folder (args.json, vocab.json, best_model.pt)",
        key="home_ckpt_folder",
        placeholder="/path/to/scGPT_human",
    )
    if folder.strip():
        try:
            state.get_model(folder.strip())
            ss["ckpt_path"] = folder.strip()
        except Exception as e:  # bad folder: say why, keep the previous model
            st.error(f"Cannot use '{folder.strip()}' as a checkpoint: {e}")
            st.info(f"Still using: {ss['ckpt_path'] or 'the bundled compact scGPT'}.")
    else:
        st.info("Enter a folder path; until then the bundled compact scGPT is used.")
        ss["ckpt_path"] = ""
else:
    ss["ckpt_path"] = ""

try:
    fm = state.get_model(ss["ckpt_path"])
except Exception as e:
    st.error(f"Could not load the checkpoint '{ss['ckpt_path'] or api.DEFAULT_CHECKPOINT}': {e}")
    st.stop()
st.caption(
    f"Loaded `{Path(str(fm.path)).name}` · checkpoint id `{str(fm.checkpoint_id)[:12]}` · "
    f"{len(fm.vocab):,} vocabulary tokens · running on **{fm.device}**"
)
card = Path(str(fm.path)) / "MODEL_CARD.md" if fm.path else None
can_cannot = card.read_text().split("## What this checkpoint can and cannot do", 1) if card and card.is_file() else []
if len(can_cannot) == 2:  # the bundled model's measured limits, from its model card
    st.warning(
        "**What this model can and cannot do.** Its limits, as measured on the bundled benchmark, are below (from its "
        "model card): each figure stands beside its controls, the untrained twin, a score made from the training "
        "network's node degrees alone, and |Pearson| on the test dataset's own expression. Read its predictions as "
        "hypotheses, next to the Benchmark page's controls."
    )
    with st.expander("Measured limits of this checkpoint (from its model card)"):
        st.markdown(can_cannot[1].split("\n## ", 1)[0])

# ------------------------------------------------------------------------------------------------ 2 dataset
st.header("2 · Dataset")
BEELINE_DS, UPLOAD_DS = "BEELINE benchmark dataset", "Upload your own genes"
ss.setdefault("home_ds_mode", UPLOAD_DS if ss["dataset_key"].startswith("upload:") else BEELINE_DS)
ds_mode = st.radio("Source", [BEELINE_DS, UPLOAD_DS, cells_ui.CELLS_MODE], key="home_ds_mode", horizontal=True,
                   help="Your cells: an AnnData (.h5ad, .loom) with cell types in .obs; one network per cell type "
                   "on the Network and Compare pages.")
names = state.list_datasets_cached()

if ds_mode == BEELINE_DS:
    if not names:
        st.error(
            "No BEELINE dataset found in the data directory. Set UGRN_DATA_DIR to the folder holding "
            "'beeline/' (see the README)."
        )
    else:
        if ss.get("home_beeline") not in names:
            ss["home_beeline"] = ss["dataset_key"] if ss["dataset_key"] in names else names[0]
        choice = st.selectbox(
            "Dataset (network / cell type / TFs + most-variable genes)",
            names,
            key="home_beeline",
            help="STRING, Non-Specific and Specific ChIP-seq and Lofgof ground-truth networks on "
            "seven BEELINE cell types, with the 500 or 1000 most-variable genes.",
        )
        ss["dataset_key"] = choice
elif ds_mode == cells_ui.CELLS_MODE:
    cells_ui.home_section(fm)
else:
    st.markdown(
        "Give the genes as a **gene list** (one symbol per line, or a CSV with a `gene` column), by pasting "
        "them, or as an **expression matrix** (genes × cells CSV/TSV with gene symbols in the first column, "
        "or an `.h5ad` of cells × genes). Optionally add **known edges** (CSV with `TF,target` columns) to "
        f"see true/false positives, and a **TF list**. Files up to {state.MAX_UPLOAD_MB} MB. For an AnnData whose `X` is "
        f"scaled (values in `.raw` or a layer) or with cell types in `.obs`, choose *{cells_ui.CELLS_MODE}* above."
    )
    c1, c2 = st.columns(2)
    with c1:
        ss.setdefault("home_upload_name", "my_genes")
        up_name = st.text_input("Dataset name", key="home_upload_name")
        species = st.radio(
            "Species",
            ["human", "mouse"],
            key="home_species",
            horizontal=True,
            help="Mouse genes enter scGPT's human vocabulary through their human orthologs.",
        )
        gene_file = st.file_uploader("Gene list (.txt, .csv)", type=["txt", "csv", "tsv"], key="home_gene_file")
        paste = st.text_area(
            "…or paste gene symbols (comma, space or newline separated)", key="home_paste", height=90
        )
    with c2:
        expr_file = st.file_uploader(
            "Expression matrix (optional: .csv, .tsv, .h5ad, .gz)",
            type=["csv", "tsv", "txt", "gz", "h5ad"],
            key="home_expr_file",
        )
        edge_file = st.file_uploader(
            "Known edges (optional CSV: TF,target)", type=["csv", "tsv", "txt"], key="home_edge_file"
        )
        tf_file = st.file_uploader(
            "TF list (optional; default: known TFs of the species)", type=["txt", "csv", "tsv"], key="home_tf_file"
        )

    files = {"gene list": gene_file, "expression matrix": expr_file, "edge list": edge_file, "TF list": tf_file}
    ok = all(state.upload_ok(f, what) if f is not None else True for what, f in files.items())
    pasted = [g for g in paste.replace(",", " ").replace(";", " ").split() if g.strip()] if paste else []
    if ok and (gene_file or pasted or expr_file):
        key = (
            "upload:"
            + (up_name.strip() or "upload")
            + ":"
            + state.digest(
                species,
                up_name,
                " ".join(pasted),
                *[(f.name.encode() + f.getvalue()) if f else b"" for f in files.values()],
            )
        )
        if key not in ss["uploads"]:
            ds = state.safe_call(
                "uploaded files",
                api.dataset_from_files,
                genes=gene_file,
                gene_symbols=pasted,
                expression=expr_file,
                edges=edge_file,
                tfs=tf_file,
                species=species,
                name=up_name.strip() or "upload",
            )
            if ds is not None:
                mapping = state.safe_call("gene symbols", api.vocab_mapping, fm, ds)
                if mapping is not None and len(mapping.genes) == 0:
                    st.error(
                        f"None of the {len(ds.genes)} genes is in the model's vocabulary "
                        f"(first ones: {', '.join(list(ds.genes)[:8])}). Check the species and that the "
                        "file holds gene symbols (e.g. MYC), not Ensembl IDs or numbers."
                    )
                elif mapping is not None and len(mapping.genes) < 2:
                    st.error(
                        f"Only 1 of the {len(ds.genes)} genes ({mapping.genes[0]}) is in the model's "
                        "vocabulary, so no TF→target pair can be formed: a pair needs at least two known "
                        f"genes (unknown: {', '.join(mapping.unmapped[:8])})."
                    )
                elif mapping is not None and not list(ds.tfs):
                    st.error(
                        "None of the genes is a known transcription factor of this species, so there is no "
                        "TF→target pair to predict. Upload a TF list (a subset of your genes)."
                    )
                elif mapping is not None:
                    ss["uploads"][key] = ds
        if key in ss["uploads"]:
            ss["dataset_key"] = key
            st.success(f"Using the uploaded dataset “{up_name}”.")
    elif ok:
        st.info("Upload a gene list or an expression matrix, or paste gene symbols.")
    if not ss["dataset_key"].startswith("upload:"):
        st.caption(f"Until a valid upload is given, pages use **{ss['dataset_key']}**.")

try:
    ds = state.get_dataset(ss["dataset_key"])
except Exception as e:
    st.error(f"Could not load the dataset '{ss['dataset_key']}': {e}")
    st.stop()

# ------------------------------------------------------------------------------------------------ 3 translator
st.header("3 · Translator")
options = state.saved_translators()
if ss["translator_path"] and ss["translator_path"] not in options.values():
    options[f"current: {Path(ss['translator_path']).name}"] = ss["translator_path"]
labels = list(options)
current = next((lab for lab, p in options.items() if p == ss["translator_path"]), labels[0])
if ss.get("home_translator") not in labels:
    ss["home_translator"] = current
tr_label = st.selectbox(
    "Trained translator",
    labels,
    key="home_translator",
    help="The bundled translator was trained on STRING/hESC/500; train your own on the Train page.",
)
ss["translator_path"] = options[tr_label]
try:
    tr = state.get_translator(ss["translator_path"])
    st.caption(f"Trained on **{tr.trained_on}** · methods: {', '.join(tr.methods)}")
except Exception as e:
    tr = None
    st.error(f"Could not load the translator '{ss['translator_path'] or api.DEFAULT_TRANSLATOR}': {e}")
if tr is not None:
    try:
        tr.check_model(fm)
    except ValueError as e:  # trained with another checkpoint: its projectors cannot read this model's features
        st.error(str(e))
        tr = None
st.page_link(state.NAV["train"], label="Train a new translator", icon="🏋️")

# ------------------------------------------------------------------------------------------------ status
st.header("Status")
params = getattr(tr, "params", None) or api.ProbeParams()
mapping = state.safe_call("vocabulary mapping", api.vocab_mapping, fm, ds)
cached = state.safe_call("probe cache", api.cached_probes, fm, ds, params) or []
c1, c2, c3, c4 = st.columns(4)
c1.metric("Device", api.device_name().upper(), help="GPU when available (set UGRN_DEVICE to force one).")
c2.metric(
    "Vocabulary coverage",
    f"{100 * mapping.coverage:.1f}%" if mapping else "—",
    help="Share of the dataset's genes that the foundation model knows.",
)
c3.metric("Genes / TFs", f"{len(ds.genes):,} / {len(ds.tfs):,}")
c4.metric("Known edges", f"{len(ds.edges):,}" if ds.has_ground_truth else "none")
if mapping is not None:
    (st.caption if mapping.coverage > 0.5 else st.warning)(f"Vocabulary: {mapping.summary()}")
    note = state.safe_call("context size", api.context_warning, fm, ds, tr) if tr is not None else None
    if note:
        st.warning(f"Context size: {note}")
    bg = state.safe_call("background context", api.context_background, fm, ds, tr, [api.DEFAULT_METHOD]) \
        if tr is not None else None
    if bg is not None:
        st.caption(f"Background context: your {len(mapping.tokens)} genes are probed among "
                   f"{len(bg.extra_tokens(mapping.tokens))} genes of {bg.name}, so VVP/GDT scores are on the "
                   f"translator's scale; only pairs among your genes are scored (switch it off on the Network page).")
st.markdown(
    f"**Expression:** {'yes' if ds.has_expression else 'no'} "
    f"({'the methods that read cells use it' if ds.has_expression else 'without expression: ' + ', '.join(api.methods.names(needs_expression=False))})"
    f"  \n**Probes cached on disk for this gene set:** {', '.join(cached) if cached else 'none yet'} "
    "(the first Network or Gene-pair view computes them; later views reuse them)."
)
if ds.has_expression and ds_mode != cells_ui.CELLS_MODE:  # the cells section says it already
    st.markdown(cells_ui.methods_note())
with st.expander("Methods (one module each in ugrn_core/methods/)"):
    st.dataframe(state.methods_table(), hide_index=True, width="stretch")
state.sidebar_summary()
