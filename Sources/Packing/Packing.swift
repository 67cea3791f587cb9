// Packing: placeholder until the module lands.
