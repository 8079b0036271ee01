"""Readers of what meters push: the common parsing (`common`, `options`, `registers`) and
one module per device (EpiSensor, Accuenergy, AcuLink 810, AcuRev 2100).

May import: `connectors.base`.
Must never: import another connector family, the HTTP server or anything from `app`.
"""
