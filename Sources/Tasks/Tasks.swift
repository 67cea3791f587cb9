// Tasks: placeholder until the module lands.
