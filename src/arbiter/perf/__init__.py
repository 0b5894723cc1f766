"""Performance model: throughput, memory and cost per unit of work on every chip."""
