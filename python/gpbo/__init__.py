"""gpbo: Bayesian optimization with a C++/CUDA engine.

    import gpbo
    space = gpbo.Space.from_dict({"params": [
        {"name": "lr", "type": "float", "low": 1e-5, "high": 1e-1, "log": True},
        {"name": "layers", "type": "int", "low": 1, "high": 8}]})
    study = gpbo.Study(space, direction="minimize", seed=0)
    for _ in range(30):
        trial = study.ask()
        study.tell(trial, train(**trial.params))
    print(study.best())

``gpbo.Study`` runs in this process; ``gpbo.open_study`` keeps a study in a store
(``sqlite://``, ``postgresql://``, ``memory://``) shared with other processes and the CLI;
``gpbo.Client`` talks to a running ``gpbo serve``. ``gpbo.optuna.GpboSampler`` is an Optuna
sampler. Options are the keys of the README's "Study options" table, as keyword arguments.
"""

from ._gpbo import (
    BackendUnavailable,
    Conflict,
    Error,
    InvalidArgument,
    NotFound,
    NumericalError,
    StorageError,
    __version__,
)
from ._api import Client, ParetoFront, Space, StoredStudy, Study, Trial, open_study

__all__ = [
    "BackendUnavailable",
    "Client",
    "Conflict",
    "Error",
    "InvalidArgument",
    "NotFound",
    "NumericalError",
    "ParetoFront",
    "Space",
    "StorageError",
    "StoredStudy",
    "Study",
    "Trial",
    "__version__",
    "open_study",
]
