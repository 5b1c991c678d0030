"""The role-play trainer's pure rules (模拟培训): the scenario model, its validation and the
simulated customer's state machine. No I/O: the YAML files are read by ``kefu.training``."""
