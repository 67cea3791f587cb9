// Tokenization: placeholder until the module lands.
