// Mixing: placeholder until the module lands.
