"""Process plumbing: the entry points a job may run, the warm worker that forks a process per job, the DeepSpeed
launcher, and a job's logging and signal handling. Neither parse time nor the jobs' work: what starts and runs them."""
