//===- Backend.cpp - facts shared by the backend passes and codegen -------===//
#include "passes/codegen/Backend.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace tpuc::backend {

std::string layerName(Operation *op) {
  if (auto name = op->getAttrOfType<StringAttr>("name"))
    return name.getValue().str();
  return op->getName().getStringRef().str();
}

std::optional<int64_t> getI64(Operation *op, StringRef name) {
  if (auto attr = op->getAttrOfType<IntegerAttr>(name))
    return attr.getInt();
  return std::nullopt;
}

static bool allUsersReturn(Operation *op) {
  if (op->use_empty())
    return false;
  for (Operation *user : op->getUsers())
    if (!isa<func::ReturnOp>(user))
      return false;
  return true;
}

static bool isInt8(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  return shaped && shaped.getElementType().isInteger(8);
}

/// What an INT8 layer kernel of Layers.h cannot do for `op`, or "" when it can.
static std::string kernelLimitation(Operation *op) {
  for (Value v : op->getOperands())
    if (auto t = dyn_cast<ShapedType>(v.getType()); t && !shape4(t))
      return "tensors of rank > 4";
  if (auto t = dyn_cast<ShapedType>(op->getResult(0).getType()); t && !shape4(t))
    return "tensors of rank > 4";
  if (isa<tpu::SliceOp, tpu::CropOp, tpu::PadOp, tpu::ConcatOp>(op) &&
      cast<ShapedType>(op->getResult(0).getType()).getRank() > 4)
    return "rank > 4";
  if (auto perm = dyn_cast<tpu::PermuteOp>(op)) {
    ArrayRef<int64_t> order = perm.getOrder();
    ArrayRef<int64_t> dims = cast<ShapedType>(perm.getInput().getType()).getShape();
    size_t lead = 0;
    while (order.size() - lead > 4 && order[lead] == int64_t(lead) && dims[lead] == 1)
      ++lead;
    if (order.size() - lead > 4)
      return "a permutation of more than four dimensions";
  }
  auto sameShape = [](Value a, Value b) {
    return shape4(cast<ShapedType>(a.getType())) == shape4(cast<ShapedType>(b.getType()));
  };
  if (isa<tpu::EltwiseAddOp, tpu::EltwiseMaxOp, tpu::EltwiseMinOp>(op))
    for (Value v : op->getOperands())
      if (!sameShape(v, op->getResult(0)))
        return "broadcast inputs (every input must have the output's shape)";
  if (isa<tpu::EltwiseMulOp>(op)) {
    if (op->getNumOperands() != 2)
      return "other than two inputs";
    Value a = op->getOperand(0), b = op->getOperand(1);
    if (!sameShape(a, op->getResult(0)))
      std::swap(a, b);
    auto bs = shape4(cast<ShapedType>(b.getType()));
    auto os = shape4(cast<ShapedType>(op->getResult(0).getType()));
    bool perChannel = ((*bs)[0] == 1 || (*bs)[0] == (*os)[0]) && (*bs)[1] == (*os)[1] &&
                      (*bs)[2] == 1 && (*bs)[3] == 1;
    if (!sameShape(a, op->getResult(0)) || !(sameShape(b, op->getResult(0)) || perChannel))
      return "this broadcast (one input of the output's shape, the other the same or "
             "(N or 1, C, 1, 1))";
  }
  if (auto mm = dyn_cast<tpu::MatMulOp>(op)) {
    auto l = cast<ShapedType>(mm.getLhs().getType()), r = cast<ShapedType>(mm.getRhs().getType());
    if (l.getRank() != r.getRank() || l.getShape().drop_back(2) != r.getShape().drop_back(2))
      return "broadcast batch dimensions";
  }
  if (auto deconv = dyn_cast<tpu::DeConv2DOp>(op)) {
    auto ftype = cast<ShapedType>(deconv.getFilter().getType());
    ArrayRef<int64_t> st = deconv.getStrides(), pd = deconv.getPads(), dl = deconv.getDilations();
    if (llvm::any_of(dl, [](int64_t d) { return d != 1; }))
      return "dilated deconvolution";
    if (st[0] < 1 || st[0] > 16 || st[1] < 1 || st[1] > 16)
      return "deconvolution strides above 16 (at most 15 inserted zeros)";
    int64_t kh = ftype.getDimSize(2), kw = ftype.getDimSize(3);
    if (pd[0] > kh - 1 || pd[2] > kh - 1 || pd[1] > kw - 1 || pd[3] > kw - 1)
      return "deconvolution pads of kernel size or more";
  }
  if (auto pad = dyn_cast<tpu::PadOp>(op); pad && pad.getMode() != "constant")
    return "pad mode '" + pad.getMode().str() + "' (constant only)";
  return "";
}

std::optional<Placement> placementOf(Operation *op, std::string *why) {
  auto fail = [&](const std::string &message) -> std::optional<Placement> {
    if (why)
      *why = message;
    return std::nullopt;
  };
  if (isa<tpu::InputOp, tpu::LoadWeightOp, func::ReturnOp, func::CallOp>(op))
    return Placement::None;
  if (auto quant = dyn_cast<tpu::QuantOp>(op)) {
    StringRef from = quant.getFrom(), to = quant.getTo();
    bool fromF32 = from == "FP32" || from == "NONE";
    bool toF32 = to == "FP32" || to == "NONE";
    if (fromF32 && to == "INT8")
      return Placement::Cpu; // the runtime's `quant` function, as vendor models do it
    // int8 -> fp32 runs on the TPU in bf16 precision (as the vendor's Cast does), also when an
    // fp32 CPU layer reads the result: the vendor runtime's `quant` function spells fp32 "NONE"
    // where tpuc's runtime expects "FP32", so a CPU dequantization would run on only one of them.
    if (from == "INT8" && toF32)
      return Placement::Tpu;
    return fail(("quant from " + from + " to " + to + " has no kernel").str());
  }
  if (auto custom = dyn_cast<tpu::CustomOp>(op)) {
    // TPU custom ops are emitted by their plugin's codeGenInt8 (tpuc-translate
    // --custom-op-plugin); CPU ones call the runtime function of the same name.
    if (!custom.getTpu())
      return Placement::Cpu;
    for (Value v : op->getOperands())
      if (v.getDefiningOp<tpu::LoadWeightOp>())
        return fail("custom op '" + custom.getPluginOpName().str() +
                    "' runs on the TPU with a weight operand; plugin code generation receives "
                    "activation addresses only");
    return Placement::Tpu;
  }
  if (isa<tpu::SoftmaxOp, tpu::DetectionOutputOp>(op))
    return Placement::Cpu;

  // Everything else needs an INT8 layer kernel (runtime/include/tpuc/kernel/Layers.h).
  bool int8 = op->getNumResults() == 1 && isInt8(op->getResult(0).getType());
  bool known =
      isa<tpu::Conv2DOp, tpu::DeConv2DOp, tpu::ScaleOp, tpu::FullyConnectedOp, tpu::MatMulOp,
          tpu::PoolMax2DOp, tpu::PoolAvg2DOp, tpu::ReluOp, tpu::EltwiseAddOp, tpu::EltwiseMaxOp,
          tpu::EltwiseMinOp, tpu::EltwiseMulOp, tpu::LutOp, tpu::LeakyReluOp, tpu::PReluOp,
          tpu::ConcatOp, tpu::UpsampleOp, tpu::PermuteOp, tpu::ShuffleChannelOp, tpu::ReshapeOp,
          tpu::SliceOp, tpu::CropOp, tpu::PadOp>(op);
  if (known && int8) {
    std::string limit = kernelLimitation(op);
    if (!limit.empty())
      return fail("the INT8 layer kernel does not support " + limit);
    return Placement::Tpu;
  }
  if (known)
    return fail("only INT8 layers have TPU kernels; this one is not INT8 (run --tpu-quant first)");
  return fail("no INT8 TPU kernel and no runtime CPU function implements it");
}

std::string cpuFunctionName(Operation *op) {
  if (isa<tpu::QuantOp>(op))
    return "quant";
  if (auto custom = dyn_cast<tpu::CustomOp>(op))
    return custom.getPluginOpName().str();
  if (isa<tpu::SoftmaxOp>(op))
    return "softmax";
  if (isa<tpu::DetectionOutputOp>(op))
    return "detectionoutput";
  return op->getName().stripDialect().str();
}

std::string tensorName(Operation *op) {
  // Recorded by assign-neuron-address: after divide-ops-to-func every value a routine hands on
  // is used by the routine's return, so the rule below could no longer tell model outputs.
  if (auto recorded = op->getAttrOfType<StringAttr>(kTensorNameAttr))
    return recorded.getValue().str();
  if (auto quant = dyn_cast<tpu::QuantOp>(op)) {
    if (quant.getFrom() == "INT8" && allUsersReturn(op))
      if (Operation *producer = quant.getInput().getDefiningOp())
        return layerName(producer) + "_f32";
  }
  return layerName(op);
}

std::optional<std::array<int64_t, 4>> shape4(ShapedType type) {
  if (!type.hasStaticShape())
    return std::nullopt;
  ArrayRef<int64_t> dims = type.getShape();
  std::array<int64_t, 4> out{1, 1, 1, 1};
  size_t rank = dims.size();
  size_t skip = 0;
  while (rank - skip > 4) {
    if (dims[skip] != 1)
      return std::nullopt;
    ++skip;
  }
  for (size_t i = skip; i < rank; ++i)
    out[i - skip] = dims[i];
  return out;
}

unsigned elementBytes(Type type) {
  if (type.isF32() || type.isInteger(32))
    return 4;
  if (type.isBF16() || type.isInteger(16))
    return 2;
  if (type.isInteger(8))
    return 1;
  return 0;
}

std::string dtypeName(Type type) {
  if (type.isF32())
    return "fp32";
  if (type.isBF16())
    return "bf16";
  if (type.isUnsignedInteger(8))
    return "uint8";
  if (type.isInteger(8))
    return "int8";
  if (type.isInteger(16))
    return "int16";
  if (type.isInteger(32))
    return "int32";
  return "unknown";
}

} // namespace tpuc::backend
