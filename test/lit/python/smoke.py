# RUN: %PYTHON %s | FileCheck %s
# Tests that the tpuc Python package builds tpu IR, keeps OpView.name, builds a custom op with
# list-valued params and runs a pass pipeline of tpu and upstream passes.

from tpuc.dialects import func, tpu
from tpuc.ir import Context, F32Type, InsertionPoint, Location, Module, RankedTensorType
from tpuc.passmanager import PassManager

with Context(), Location.unknown():
    module = Module.create()
    t = RankedTensorType.get([1, 4, 8, 8], F32Type.get())
    with InsertionPoint(module.body):

        @func.FuncOp.from_py_func(t)
        def net(x):
            r = tpu.ReluOp(x, "relu0")
            c = tpu.custom_op(
                "lrelu0",
                [r.result],
                [1, 4, 8, 8],
                operation_name="leaky_relu",
                param={
                    "negative_slope": 0.1,
                    "sizes": [1, 2, 3],
                    "names": ["a", "b"],
                    "flags": [True, False],
                    "scales": [0.5, 0.25],
                    "mode": "fast",
                },
                threshold_overwrite="backward",
            )
            # CHECK: tpu.relu relu0
            print(r.name, r.layer_name)
            # CHECK: tpu.custom_op lrelu0 leaky_relu
            print(c.name, c.layer_name, c.operation.attributes["operation_name"].value)
            return c.result

    assert module.operation.verify()
    PassManager.parse("builtin.module(assign-layer-id,canonicalize,cse)").run(module.operation)
    # CHECK: tpu.relu %arg0 {layer_id = 0 : i64, name = "relu0"}
    # CHECK: tpu.custom_op %{{.*}} {do_quant = true, layer_id = 1 : i64, name = "lrelu0", operation_name = "leaky_relu", param = {flags = [true, false], mode = "fast", names = ["a", "b"], negative_slope = 1.000000e-01 : f32, scales = [5.000000e-01 : f32, 2.500000e-01 : f32], sizes = [1 : i32, 2 : i32, 3 : i32]}, quant = {mode = "NONE"}, threshold_overwrite = "backward", tpu = true}
    print(module)

    # CHECK: TypeError: param 'bad': list mixes value types ['int', 'str']
    try:
        tpu.param_dict({"bad": [1, "x"]})
    except TypeError as error:
        print("TypeError:", error)
