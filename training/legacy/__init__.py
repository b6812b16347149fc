"""The retired EfficientNet-B0 path (issue 7 and 8: sessions 1-4, the synthetic-only models up to
steel-effnetb0-relu6-strip 3.1.0). Nothing shipped depends on it; kept so that those models can be
rebuilt and compared. Run its scripts as modules with training/ on the import path, from the
repository root:

    PYTHONPATH=training /usr/bin/python3 -m legacy.train --config tiny --data DIR --val DIR --out DIR
"""
