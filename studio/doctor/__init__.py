"""The network doctor: what is wrong with a graph before it trains, and the fix.

``lints`` finds mistakes from shapes and settings alone (no forward pass), each
with its place and the edits that mend it; ``preview`` runs one forward and
backward pass at initialisation and reads the loss, activations and gradients;
``sanity`` overfits one batch and sweeps the learning rate. No Qt here.
"""
