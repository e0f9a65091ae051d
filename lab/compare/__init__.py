"""The Compare lab (`compare`): the same run under several Pythons, interleaved round by round."""
