"""Real faults against real processes: killed workers, a restarted server, a locked database, mail down."""
