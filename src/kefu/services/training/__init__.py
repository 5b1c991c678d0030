"""The role-play trainer's use cases (模拟培训): reading a trainee's reply into signals."""
