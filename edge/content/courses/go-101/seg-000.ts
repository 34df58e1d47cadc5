sample segment 0
