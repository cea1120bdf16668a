"""Version-neutral EV charging logic: chargers, EVSEs, transactions, authorization."""
