"""Command-line tools written in Python: cvi_npz_tool, run_onnx_inference."""
