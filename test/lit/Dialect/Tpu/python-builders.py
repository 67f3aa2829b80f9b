# RUN: %PYTHON %s | FileCheck %s
# Tests that the Python builders of ops with inferred result types take no result type, compute it
# from the operands and attributes, report bad operands as an exception naming the rule, and still
# accept an explicit result type.

from tpuc.dialects import func, tpu
from tpuc.ir import (
    BF16Type,
    Context,
    F32Type,
    InsertionPoint,
    IntegerType,
    Location,
    MLIRError,
    Module,
    RankedTensorType,
)


def tensor(*shape: int) -> RankedTensorType:
    return RankedTensorType.get(list(shape), F32Type.get())


with Context(), Location.unknown():
    module = Module.create()
    with InsertionPoint(module.body):

        @func.FuncOp.from_py_func(tensor(1, 3, 8, 8), tensor(4, 3, 3, 3), tensor(4))
        def net(x, w, b):
            conv = tpu.Conv2DOp(
                x, w, strides=[2, 2], pads=[1, 1, 1, 1], dilations=[1, 1], name="conv", bias=b
            )
            # CHECK: conv tensor<1x4x4x4xf32>
            print("conv", conv.result.type)
            pool = tpu.PoolMax2DOp(
                conv.result, [3, 3], [2, 2], [0, 0, 0, 0], "pool", ceil_mode=True
            )
            # CHECK: pool tensor<1x4x2x2xf32>
            print("pool", pool.result.type)
            relu = tpu.ReluOp(pool.result, "relu")
            add = tpu.EltwiseAddOp([pool.result, relu.result], "add", coeff=[1.0, -1.0])
            # CHECK: add tensor<1x4x2x2xf32>
            print("add", add.result.type)
            cat = tpu.ConcatOp([add.result, relu.result, pool.result], 1, "cat")
            # CHECK: cat tensor<1x12x2x2xf32>
            print("cat", cat.result.type)
            perm = tpu.PermuteOp(cat.result, [0, 2, 3, 1], "perm")
            # CHECK: perm tensor<1x2x2x12xf32>
            print("perm", perm.result.type)
            mean = tpu.ReduceMeanOp(perm.result, [1, 2], "mean", keepdims=False)
            # CHECK: mean tensor<1x12xf32>
            print("mean", mean.result.type)
            shuffle = tpu.PixelShuffleOp(cat.result, 2, "shuffle")
            # CHECK: shuffle tensor<1x3x4x4xf32>
            print("shuffle", shuffle.result.type)
            pad = tpu.PadOp(shuffle.result, [0, 0, 1, 1, 0, 0, 1, 1], "pad", mode="edge")
            # CHECK: pad tensor<1x3x6x6xf32>
            print("pad", pad.result.type)

            # CHECK: error: 'tpu.pool_avg_2d' op kernel_shape must have 2 entries ([h, w]), got 1
            try:
                tpu.PoolAvg2DOp(conv.result, [3], [1, 1], [0, 0, 0, 0], "bad_pool")
            except MLIRError as error:
                print("error:", error.error_diagnostics[0].message)
            # CHECK: error: 'tpu.concat' op input 1 shape [1, 3, 4, 4] differs from input 0 shape
            # CHECK-SAME: [1, 4, 2, 2] in dimension 2, which is not the axis 1
            try:
                tpu.ConcatOp([pool.result, shuffle.result], 1, "bad_cat")
            except MLIRError as error:
                print("error:", error.error_diagnostics[0].message)
            # CHECK: error: 'tpu.conv_2d' op requires attribute 'dilations'
            try:
                tpu._ods_ir.Operation.create(
                    "tpu.conv_2d",
                    operands=[x, w],
                    attributes={"name": tpu._ods_ir.StringAttr.get("c")},
                    infer_type=True,
                )
            except MLIRError as error:
                print("error:", error.error_diagnostics[0].message)

            # An explicit result type is still accepted, and checked by the verifier.
            bf16 = RankedTensorType.get([1, 4, 2, 2], BF16Type.get())
            explicit = tpu.SoftmaxOp(pool.result, 1, "softmax", results=[bf16])
            # CHECK: explicit tensor<1x4x2x2xbf16>
            print("explicit", explicit.result.type)
            # CHECK: verify: 'tpu.softmax' op output element type must be 'f32' (the input's),
            # CHECK-SAME: got 'bf16'
            try:
                explicit.operation.verify()
            except MLIRError as error:
                print("verify:", error.error_diagnostics[0].message)
            explicit.operation.erase()

            i8 = RankedTensorType.get([1, 4, 2, 2], IntegerType.get_signless(8))
            quant = tpu.QuantOp(i8, pool.result, "NONE", "INT8", 16.0, "q")
            # CHECK: quant tensor<1x4x2x2xi8>
            print("quant", quant.result.type)
            return pad.result

    # CHECK: verified True
    print("verified", module.operation.verify())
