// The `ember` command-line tool (filled in by the training issue).
print("ember: no commands yet")
