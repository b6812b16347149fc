"""Experiments on the shipped pipeline: diagnoses and probes whose results are written up in
training/NOTEBOOK.md, not steps of it. Run them as modules with training/ on the import path, from
the repository root:

    PYTHONPATH=training /usr/bin/python3 -m lab.probe_heads floor --ckpt .cache/finetune-cont/best.pt --work .cache/probe
"""
