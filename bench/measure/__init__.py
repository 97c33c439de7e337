"""What every front end shares: the journal, building a run's record, recovering a killed run,
stop signals, a run's phases and windows, replaying recorded power, how busy the machine was."""
