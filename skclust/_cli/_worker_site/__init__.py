"""Start-up code of skclust's worker processes (see ``skclust._cli._workers``)."""
