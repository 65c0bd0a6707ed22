#!/usr/bin/python3
"""gen.py ROWS SEED OUT.csv — phishing-like data for bench/learn when
`hamf datagen` is not available: the seed's 14 features after the seed's
preprocessing (numeric columns, registrarname as text) plus `phishing`.
Classes overlap and 1.5% of labels are flipped, so the best accuracy is
around 98%, as the issue measured."""
import sys
import numpy as np

n, seed, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(seed)
y = (rng.random(n) < 0.45).astype(np.int64)
z = rng.normal(size=n) * 0.7 + (y * 2 - 1) * 1.8  # latent "phishiness"
urllength = np.maximum(10, rng.lognormal(3.6 + 0.25 * z, 0.35)).round()
numberofdots = rng.poisson(np.clip(2 + 0.8 * z, 0.2, None))
hostage = np.maximum(0, rng.gamma(2.0, np.exp(6.5 - 0.9 * z))).round()
secure = (rng.random(n) < 1 / (1 + np.exp(1.2 * z - 0.8))).astype(np.int64)
has_equal = (rng.random(n) < 1 / (1 + np.exp(-(z - 0.7)))).astype(np.int64)
alexa_rank = np.minimum(1e7, rng.lognormal(11 + 0.9 * z, 1.2)).round() / 1e6
has_digits = (rng.random(n) < 1 / (1 + np.exp(-(0.8 * z)))).astype(np.int64)
hostlength = np.maximum(4, rng.normal(18 + 4 * z, 5)).round()
pathlength = np.maximum(0, urllength - hostlength - rng.integers(0, 8, n)) / urllength
regs = ["registrar%02d" % i for i in range(60)]
pref = np.where(z > 0, rng.integers(0, 15, n), rng.integers(10, 60, n))
registrar = np.array(regs)[pref]
hyperlinks = rng.poisson(np.exp(3.5 - 0.5 * z))
foreignlinks = rng.binomial(hyperlinks, 1 / (1 + np.exp(-(z - 0.5))))
brokenhyperlinks = rng.binomial(hyperlinks, 1 / (1 + np.exp(-(0.6 * z - 2.5))))
trickyforms = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * z - 2)))).astype(np.int64)
flip = rng.random(n) < 0.012
y = np.where(flip, 1 - y, y)
missing = rng.random(n) < 0.01
with open(out, "w") as f:
    f.write("urllength,numberofdots,hostage,has_equal,has_digits,hostlength,registrarname,hyperlinks,"
            "foreignlinks,brokenhyperlinks,trickyforms,alexa_rank_scaled,pathlength_normalized,"
            "hassecureconnection_encoded,phishing\n")
    for i in range(n):
        ha = "" if missing[i] else "%d" % hostage[i]
        f.write("%d,%d,%s,%d,%d,%d,%s,%d,%d,%d,%d,%.6f,%.6f,%d,%d\n" % (
            urllength[i], numberofdots[i], ha, has_equal[i], has_digits[i], hostlength[i], registrar[i],
            hyperlinks[i], foreignlinks[i], brokenhyperlinks[i], trickyforms[i], alexa_rank[i], pathlength[i],
            secure[i], y[i]))
