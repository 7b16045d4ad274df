"""The class-aware models: class-conditional (cgan, acgan), semi-supervised (sgan) and clustering
(infogan, clustergan) GANs, one file each on the shared ``base``."""
