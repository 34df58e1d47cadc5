sample segment 1
