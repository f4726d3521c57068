from fincore.migrations import run_env

run_env()
