"""kefu (客服): a self-hosted customer-service platform for Chinese-language teams."""

import os

# Every model kefu runs per request multiplies small matrices (a question's few words against a
# few thousand), where BLAS's worker threads cost more than they save: measured 2.0 ms with the
# default threads against 0.33 ms with one, on two cores. Requests run side by side instead.
# Set before NumPy is first imported; a value given in the environment wins.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

__version__ = "0.1.0"
