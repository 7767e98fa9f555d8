"""`make soak`: a long mixed-load run against the real service, sampling each process."""
