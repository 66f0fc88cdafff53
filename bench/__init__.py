"""``make bench``: okno's throughput, latency and memory, each as a ratio to a same-run limit."""
