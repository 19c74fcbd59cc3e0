"""Every write of the jobs app: :mod:`.jobs` (submit, cancel, retry, credits) and :mod:`.execution`
(running a job through the training process)."""
