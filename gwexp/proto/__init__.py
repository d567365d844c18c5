"""Generated from protos/ by ``python -m gwexp.codegen``; never edit by hand."""
