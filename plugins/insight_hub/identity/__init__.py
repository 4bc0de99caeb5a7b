"""Identity resolution, measured: how well the hub's customer ids agree with a ground truth."""
