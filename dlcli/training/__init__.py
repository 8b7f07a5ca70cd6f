"""Training a spec into a run directory.

| module     | holds                                                                 |
| lifecycle  | start, resume and close one run: the sequence `dlcli train` runs      |
| trainer    | the protocol (fit, k-fold, retrain, evaluate) as resumable phases     |
| callbacks  | history recorder, stop on signal, resume-state keeper, spec callbacks |
| state      | the resume state saved after every completed epoch                    |
| data       | validation splits, one data path for fit, evaluating a split          |
| stopping   | signals, interrupted epochs, diverging losses                         |
| summary    | metrics derived from histories                                        |
"""
