"""Data: validated binary data as distinct rows with counts, and the DEBD loader. A lowest layer.

* :mod:`~spnlib.data.counted` - :class:`CountedData` (distinct rows, counts, missing values).
* :mod:`~spnlib.data.debd` - :func:`load_debd` (checksum-pinned, downloads when it can),
  :func:`load_counted` (the same as cached ``CountedData``).
"""
from spnlib.data.counted import MISSING, CountedData, check_data
from spnlib.data.debd import DATASETS, DatasetError, load_counted, load_debd

__all__ = ["MISSING", "CountedData", "check_data", "DATASETS", "DatasetError", "load_counted", "load_debd"]
