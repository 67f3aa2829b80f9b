//===- CvimodelEmitter.cpp - INT8 module -> .cvimodel ---------------------===//
#include "passes/codegen/CvimodelEmitter.h"
#include "passes/codegen/Backend.h"
#include "passes/codegen/CvimodelWriterBridge.h"
#include "passes/codegen/LayerGroupsEmit.h"

#include "dialect/TpuOps.h"
#include "runtime/sdk/CustomOpAttributes.h"
#include "runtime/sdk/PluginHost.h"
#include "tpuc/kernel/Context.h"
#include "tpuc/kernel/Layers.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <cstdlib>
#include <ctime>

using namespace mlir;
namespace kl = tpuc::kernel::layers;
namespace rt = tpuc::runtime;
using tpuc::kernel::GlobalAddr;
using tpuc::kernel::GlobalMatrix;
using tpuc::kernel::GlobalTensor;

namespace tpuc::backend {
namespace {

/// One tensor of the cvimodel's tensor map.
struct Tensor {
  std::string name;
  int64_t gaddr = 0;
  rt::DType dtype = rt::DType::INT8;
  std::array<int64_t, 4> shape{1, 1, 1, 1};
  uint32_t bytes = 0;
  float qscale = 1.0f;
  bool int8 = false;
  size_t order = 0;             ///< when it is written (program order)
  const Tensor *root = nullptr; ///< the tensor whose buffer a reshape shares (else itself)
};

std::optional<rt::DType> runtimeDType(Type t) {
  if (t.isF32())
    return rt::DType::FP32;
  if (t.isBF16())
    return rt::DType::BF16;
  if (t.isUnsignedInteger(8))
    return rt::DType::UINT8;
  if (t.isInteger(8))
    return rt::DType::INT8;
  if (t.isInteger(16))
    return rt::DType::INT16;
  if (t.isInteger(32))
    return rt::DType::INT32;
  return std::nullopt;
}

std::optional<double> thresholdOf(Operation *op) {
  if (auto quant = op->getAttrOfType<DictionaryAttr>("quant"))
    if (auto t = quant.getAs<FloatAttr>("threshold_max"))
      return t.getValueAsDouble();
  return std::nullopt;
}

std::vector<int64_t> quantArray(Operation *op, StringRef key) {
  std::vector<int64_t> out;
  if (auto quant = op->getAttrOfType<DictionaryAttr>("quant")) {
    Attribute a = quant.get(key);
    if (auto dense = dyn_cast_or_null<DenseI64ArrayAttr>(a))
      out.assign(dense.asArrayRef().begin(), dense.asArrayRef().end());
    else if (auto arr = dyn_cast_or_null<ArrayAttr>(a))
      for (Attribute e : arr)
        if (auto i = dyn_cast<IntegerAttr>(e))
          out.push_back(i.getInt());
  }
  return out;
}

std::string quantString(Operation *op, StringRef key) {
  if (auto quant = op->getAttrOfType<DictionaryAttr>("quant"))
    if (auto s = quant.getAs<StringAttr>(key))
      return s.getValue().str();
  return "";
}

class Emitter {
public:
  Emitter(ModuleOp module, const CvimodelOptions &options) : module(module), options(options) {}

  LogicalResult run(llvm::raw_ostream &os);

private:
  FailureOr<Tensor *> tensorFor(Operation *op);
  FailureOr<Tensor *> lookup(Value v, Operation *user);
  LogicalResult emitTpuRoutine(func::FuncOp func, kernel::Context &ctx);
  LogicalResult emitLayer(Operation *op, kernel::Context &ctx);
  LogicalResult cpuParams(Operation *op, std::vector<CpuParam> &params);
  FailureOr<GlobalTensor> global(Value v, Operation *user);
  FailureOr<GlobalAddr> weightAddr(Value v, Operation *user);
  void addWeight(Operation *load);

  ModuleOp module;
  const CvimodelOptions &options;
  std::vector<std::unique_ptr<Tensor>> tensors;
  llvm::StringMap<Tensor *> byName;
  llvm::DenseMap<Value, Tensor *> valueTensor;
  std::vector<rt::WeightInfo> weightInfos;
  llvm::DenseSet<int64_t> weightOffsets;
  sdk::CustomOpLibraries plugins;
  bool pluginsLoaded = false;
  LayerGroupEmitter groups; ///< layer groups of --group-ops
  uint32_t lastLayerId = 0; ///< the largest assigned layer id (then the last fresh one)
};

FailureOr<Tensor *> Emitter::tensorFor(Operation *op) {
  auto gaddr = getI64(op, kGaddrAttr);
  if (!gaddr) {
    op->emitError() << "mlir-to-cvimodel: '" << layerName(op)
                    << "' has no address; run --assign-neuron-address first";
    return failure();
  }
  auto type = cast<ShapedType>(op->getResult(0).getType());
  auto dtype = runtimeDType(type.getElementType());
  auto shape = shape4(type);
  if (!dtype || !shape) {
    op->emitError() << "mlir-to-cvimodel: '" << layerName(op) << "': tensor type " << type
                    << " cannot be stored in a cvimodel";
    return failure();
  }
  std::string name = tensorName(op);
  if (auto it = byName.find(name); it != byName.end()) {
    if (it->second->gaddr != *gaddr) {
      op->emitError() << "mlir-to-cvimodel: two tensors are named '" << name << "'";
      return failure();
    }
    return it->second;
  }
  auto t = std::make_unique<Tensor>();
  t->name = name;
  t->gaddr = *gaddr;
  t->dtype = *dtype;
  t->shape = *shape;
  t->bytes = uint32_t(type.getNumElements() * elementBytes(type.getElementType()));
  t->int8 = *dtype == rt::DType::INT8;
  if (t->int8) {
    auto threshold = thresholdOf(op);
    if (!threshold) {
      op->emitError() << "mlir-to-cvimodel: int8 tensor '" << name << "' has no threshold";
      return failure();
    }
    t->qscale = float(*threshold / 127.0);
  }
  t->order = tensors.size();
  t->root = t.get();
  Tensor *raw = t.get();
  byName[name] = raw;
  tensors.push_back(std::move(t));
  return raw;
}

FailureOr<Tensor *> Emitter::lookup(Value v, Operation *user) {
  auto it = valueTensor.find(v);
  if (it != valueTensor.end())
    return it->second;
  user->emitError() << "mlir-to-cvimodel: '" << layerName(user)
                    << "': an operand has no tensor (not produced by a layer with an address)";
  return failure();
}

FailureOr<GlobalTensor> Emitter::global(Value v, Operation *user) {
  auto t = lookup(v, user);
  if (failed(t))
    return failure();
  if (!(*t)->int8) {
    user->emitError() << "mlir-to-cvimodel: '" << layerName(user) << "': operand '" << (*t)->name
                      << "' is not int8";
    return failure();
  }
  auto s = (*t)->shape;
  return GlobalTensor::dense(
      GlobalAddr::fromGaddr(uint64_t((*t)->gaddr)),
      kernel::Shape{uint32_t(s[0]), uint32_t(s[1]), uint32_t(s[2]), uint32_t(s[3])},
      kernel::DType::Int8);
}

void Emitter::addWeight(Operation *load) {
  auto gaddr = getI64(load, kWeightAddrAttr);
  if (!gaddr || !weightOffsets.insert(*gaddr).second)
    return;
  auto type = cast<ShapedType>(load->getResult(0).getType());
  rt::WeightInfo w;
  auto mapName = load->getAttrOfType<StringAttr>(kWeightNameAttr);
  w.name = mapName ? mapName.getValue().str() : layerName(load);
  w.offset = int64_t(gaddrOffset(*gaddr));
  w.size = uint32_t(type.getNumElements() * elementBytes(type.getElementType()));
  auto s = shape4(type);
  if (s)
    w.shape.assign(s->begin(), s->end());
  w.type = runtimeDType(type.getElementType()).value_or(rt::DType::INT8);
  weightInfos.push_back(std::move(w));
}

FailureOr<GlobalAddr> Emitter::weightAddr(Value v, Operation *user) {
  Operation *load = v ? v.getDefiningOp<tpu::LoadWeightOp>() : nullptr;
  auto gaddr = load ? getI64(load, kWeightAddrAttr) : std::nullopt;
  if (!gaddr) {
    user->emitError() << "mlir-to-cvimodel: '" << layerName(user)
                      << "': a weight has no address; run --assign-weight-address first";
    return failure();
  }
  addWeight(load);
  return GlobalAddr::fromGaddr(uint64_t(*gaddr));
}

static uint32_t u32(int64_t v) { return static_cast<uint32_t>(v); }

LogicalResult Emitter::emitLayer(Operation *op, kernel::Context &ctx) {
  std::string name = layerName(op);
  // Layers created after --assign-layer-id (the quantization's dequant ops) get fresh ids
  // after the assigned ones, in program order, so every layer is told apart in profiles.
  auto assigned = getI64(op, "layer_id");
  uint32_t layerId = assigned && *assigned >= 0 ? u32(*assigned) : ++lastLayerId;
  auto outT = tensorFor(op);
  if (failed(outT))
    return failure();
  valueTensor[op->getResult(0)] = *outT;
  auto s = (*outT)->shape;
  kernel::Shape outShape{u32(s[0]), u32(s[1]), u32(s[2]), u32(s[3])};
  GlobalTensor out = GlobalTensor::dense(GlobalAddr::fromGaddr(uint64_t((*outT)->gaddr)), outShape,
                                         kernel::DType::Int8);
  auto fail = [&](const Twine &why) {
    op->emitError() << "mlir-to-cvimodel: " << op->getName() << " '" << name << "': " << why;
    return failure();
  };
  auto base = [&](kl::LayerBase &l) {
    l.name = name;
    l.layerId = layerId;
  };
  std::vector<int64_t> mult = quantArray(op, "multiplier"), rshift = quantArray(op, "rshift");
  auto m0 = [&]() { return mult.empty() ? int64_t(1) : mult[0]; };
  auto r0 = [&]() { return rshift.empty() ? int64_t(0) : rshift[0]; };
  auto relu = [&]() {
    auto a = op->getAttrOfType<BoolAttr>("do_relu");
    return a && a.getValue();
  };
  ctx.setLayerId(layerId);

  if (isa<tpu::Conv2DOp, tpu::ScaleOp, tpu::DeConv2DOp>(op)) {
    // scale is the depthwise 1x1 convolution x * scale[c] + bias[c]; deconv_2d the convolution
    // of the input with zeros inserted (see Conv2dLayer::insH).
    auto conv = dyn_cast<tpu::Conv2DOp>(op);
    auto scale = dyn_cast<tpu::ScaleOp>(op);
    auto deconv = dyn_cast<tpu::DeConv2DOp>(op);
    Value filterValue = conv ? conv.getFilter() : deconv ? deconv.getFilter() : scale.getScale();
    Value biasValue = conv ? conv.getBias() : deconv ? deconv.getBias() : scale.getBias();
    kl::Conv2dLayer l;
    base(l);
    auto in = global(op->getOperand(0), op);
    auto filter = weightAddr(filterValue, op);
    if (failed(in) || failed(filter))
      return failure();
    l.input = *in;
    l.output = out;
    l.filter = *filter;
    uint32_t oc = outShape.c;
    if (conv) {
      auto ftype = cast<ShapedType>(filterValue.getType());
      l.group = u32(conv.getGroup());
      l.kh = u32(ftype.getDimSize(2));
      l.kw = u32(ftype.getDimSize(3));
      l.strideH = u32(conv.getStrides()[0]);
      l.strideW = u32(conv.getStrides()[1]);
      l.dilationH = u32(conv.getDilations()[0]);
      l.dilationW = u32(conv.getDilations()[1]);
      l.padTop = u32(conv.getPads()[0]);
      l.padLeft = u32(conv.getPads()[1]);
      l.padBottom = u32(conv.getPads()[2]);
      l.padRight = u32(conv.getPads()[3]);
    } else if (deconv) {
      auto ftype = cast<ShapedType>(filterValue.getType());
      l.group = u32(deconv.getGroup());
      l.kh = u32(ftype.getDimSize(2));
      l.kw = u32(ftype.getDimSize(3));
      ArrayRef<int64_t> st = deconv.getStrides(), pd = deconv.getPads(),
                        op2 = deconv.getOutputPadding();
      l.insH = u32(st[0] - 1);
      l.insW = u32(st[1] - 1);
      l.padTop = u32(int64_t(l.kh) - 1 - pd[0]);
      l.padLeft = u32(int64_t(l.kw) - 1 - pd[1]);
      l.padBottom = u32(int64_t(l.kh) - 1 - pd[2] + (op2.empty() ? 0 : op2[0]));
      l.padRight = u32(int64_t(l.kw) - 1 - pd[3] + (op2.size() < 2 ? 0 : op2[1]));
    } else {
      l.group = oc;
    }
    l.doRelu = relu();
    if (auto chan = getI64(op, kChanParamAttr)) {
      l.perChannel = true;
      l.chanParam = GlobalAddr::fromGaddr(uint64_t(*chan));
      l.chanParamHasBias = true;
      if (weightOffsets.insert(*chan).second) {
        rt::WeightInfo w;
        w.name = name + "_quant_chan_param";
        w.offset = int64_t(gaddrOffset(*chan));
        w.size = oc * 9;
        w.shape = {1, int64_t(oc), 1, 9};
        w.type = rt::DType::UINT8;
        weightInfos.push_back(std::move(w));
      }
    } else {
      if (quantString(op, "param_type") != "RSHIFT_ONLY")
        return fail("per-channel layer without its parameter records; run "
                    "--assign-weight-address first");
      l.perChannel = false;
      l.rshift = u32(r0());
      if (biasValue) {
        auto b = weightAddr(biasValue, op);
        if (failed(b))
          return failure();
        l.bias = *b;
        l.hasBias = true;
      }
    }
    return success(groups.emitOrCollect(ctx, l, kl::emitConv2d));
  }
  if (auto fc = dyn_cast<tpu::FullyConnectedOp>(op)) {
    kl::FullyConnectedLayer l;
    base(l);
    auto inT = lookup(fc.getInput(), op);
    auto filter = weightAddr(fc.getFilter(), op);
    if (failed(inT) || failed(filter))
      return failure();
    auto ftype = cast<ShapedType>(fc.getFilter().getType());
    uint32_t n = u32(ftype.getDimSize(0)), k = u32(ftype.getDimSize(1));
    auto itype = cast<ShapedType>(fc.getInput().getType());
    uint32_t m = u32(itype.getNumElements() / k);
    l.input = GlobalMatrix::dense(GlobalAddr::fromGaddr(uint64_t((*inT)->gaddr)), m, k,
                                  kernel::DType::Int8);
    l.output = GlobalMatrix::dense(out.addr, m, n, kernel::DType::Int8);
    l.filter = *filter;
    if (Value bias = fc.getBias()) {
      auto b = weightAddr(bias, op);
      if (failed(b))
        return failure();
      l.bias = *b;
      l.hasBias = true;
    }
    l.qdm = quantString(op, "param_type") != "RSHIFT_ONLY";
    l.multiplier = int32_t(m0());
    l.rshift = u32(r0());
    l.doRelu = fc.getDoRelu();
    return success(kl::emitFullyConnected(ctx, l));
  }
  if (auto mm = dyn_cast<tpu::MatMulOp>(op)) {
    auto lt = cast<ShapedType>(mm.getLhs().getType()),
         rtp = cast<ShapedType>(mm.getRhs().getType());
    auto ot = cast<ShapedType>(op->getResult(0).getType());
    if (lt.getRank() != rtp.getRank() || lt.getShape().drop_back(2) != rtp.getShape().drop_back(2))
      return fail("broadcast batch dimensions are not supported by the matmul kernel");
    auto lT = lookup(mm.getLhs(), op), rT = lookup(mm.getRhs(), op);
    if (failed(lT) || failed(rT))
      return failure();
    uint32_t M = u32(lt.getDimSize(lt.getRank() - 2)), K = u32(lt.getDimSize(lt.getRank() - 1));
    uint32_t N = u32(rtp.getDimSize(rtp.getRank() - 1));
    kl::MatMulLayer l;
    base(l);
    l.batch = u32(ot.getNumElements() / (int64_t(M) * N));
    l.left = GlobalMatrix::dense(GlobalAddr::fromGaddr(uint64_t((*lT)->gaddr)), M, K,
                                 kernel::DType::Int8);
    l.right = GlobalMatrix::dense(GlobalAddr::fromGaddr(uint64_t((*rT)->gaddr)), K, N,
                                  kernel::DType::Int8);
    l.output = GlobalMatrix::dense(out.addr, M, N, kernel::DType::Int8);
    l.leftBatchStride = uint64_t(M) * K;
    l.rightBatchStride = uint64_t(K) * N;
    l.outputBatchStride = uint64_t(M) * N;
    l.multiplier = int32_t(m0());
    l.rshift = u32(r0());
    l.doRelu = mm.getDoRelu();
    return success(kl::emitMatMul(ctx, l));
  }
  if (isa<tpu::PoolMax2DOp, tpu::PoolAvg2DOp>(op)) {
    kl::Pool2dLayer l;
    base(l);
    auto in = global(op->getOperand(0), op);
    if (failed(in))
      return failure();
    auto ks = op->getAttrOfType<DenseI64ArrayAttr>("kernel_shape").asArrayRef();
    auto st = op->getAttrOfType<DenseI64ArrayAttr>("strides").asArrayRef();
    auto pd = op->getAttrOfType<DenseI64ArrayAttr>("pads").asArrayRef();
    l.kind = isa<tpu::PoolMax2DOp>(op) ? kl::PoolKind::Max : kl::PoolKind::Avg;
    l.input = *in;
    l.output = out;
    l.kh = u32(ks[0]);
    l.kw = u32(ks[1]);
    l.strideH = u32(st[0]);
    l.strideW = u32(st[1]);
    l.padTop = u32(pd[0]);
    l.padLeft = u32(pd[1]);
    l.padBottom = u32(pd[2]);
    l.padRight = u32(pd[3]);
    // ceil_mode: the last row/column of windows reaches past the bottom/right padding; those
    // positions count as padding (max: -128, average: 0 with the fixed kh * kw divisor), so
    // they are extra bottom/right padding for the kernel.
    uint32_t needH = (outShape.h - 1) * l.strideH + l.kh,
             needW = (outShape.w - 1) * l.strideW + l.kw;
    if (needH > in->shape.h + l.padTop + l.padBottom)
      l.padBottom = needH - in->shape.h - l.padTop;
    if (needW > in->shape.w + l.padLeft + l.padRight)
      l.padRight = needW - in->shape.w - l.padLeft;
    uint32_t oh = kl::windowOutputSize(in->shape.h, l.kh, l.strideH, 1, l.padTop, l.padBottom);
    uint32_t ow = kl::windowOutputSize(in->shape.w, l.kw, l.strideW, 1, l.padLeft, l.padRight);
    if (oh != outShape.h || ow != outShape.w)
      return fail("output size does not match the window geometry");
    l.multiplier = u32(m0());
    l.rshift = u32(r0());
    l.doRelu = relu();
    return success(groups.emitOrCollect(ctx, l, kl::emitPool2d));
  }
  if (isa<tpu::ReluOp>(op)) {
    kl::LeakyReluLayer l;
    base(l);
    auto in = global(op->getOperand(0), op);
    if (failed(in))
      return failure();
    l.input = *in;
    l.output = out;
    l.mPos = 1;
    l.rPos = 0;
    l.mNeg = 0;
    l.rNeg = 0;
    return success(groups.emitOrCollect(ctx, l, kl::emitLeakyRelu));
  }
  if (isa<tpu::EltwiseAddOp, tpu::EltwiseMaxOp, tpu::EltwiseMinOp>(op)) {
    kl::EltwiseLayer l;
    base(l);
    l.kind = isa<tpu::EltwiseAddOp>(op)   ? kl::EltwiseKind::Add
             : isa<tpu::EltwiseMaxOp>(op) ? kl::EltwiseKind::Max
                                          : kl::EltwiseKind::Min;
    for (Value v : op->getOperands()) {
      auto in = global(v, op);
      if (failed(in))
        return failure();
      if (!(in->shape == outShape))
        return fail("broadcast inputs are not supported by the eltwise kernel");
      l.inputs.push_back(*in);
    }
    l.output = out;
    for (int64_t m : mult)
      l.multipliers.push_back(int32_t(m));
    if (l.multipliers.empty())
      l.multipliers.assign(l.inputs.size(), 1);
    l.rshift = u32(r0());
    l.doRelu = relu();
    return success(groups.emitOrCollect(ctx, l, kl::emitEltwise));
  }
  if (isa<tpu::EltwiseMulOp>(op)) {
    if (op->getNumOperands() != 2)
      return fail("eltwise_mul needs exactly two inputs");
    kl::EltwiseMulLayer l;
    base(l);
    auto a = global(op->getOperand(0), op), b = global(op->getOperand(1), op);
    if (failed(a) || failed(b))
      return failure();
    l.a = *a;
    l.b = *b;
    if (!(a->shape == outShape) && (b->shape == outShape))
      std::swap(l.a, l.b);
    l.output = out;
    l.multiplier = int32_t(m0());
    l.rshift = u32(r0());
    l.doRelu = relu();
    return success(kl::emitEltwiseMul(ctx, l));
  }
  if (auto lut = dyn_cast<tpu::LutOp>(op)) {
    kl::LutLayer l;
    base(l);
    auto in = global(lut.getInput(), op);
    auto table = weightAddr(lut.getTable(), op);
    if (failed(in) || failed(table))
      return failure();
    l.input = *in;
    l.output = out;
    l.table = *table;
    return success(groups.emitOrCollect(ctx, l, kl::emitLut));
  }
  if (isa<tpu::LeakyReluOp>(op)) {
    if (mult.size() != 2 || rshift.size() != 2)
      return fail("needs quant multiplier [m_pos, m_neg] and rshift [r_pos, r_neg]");
    kl::LeakyReluLayer l;
    base(l);
    auto in = global(op->getOperand(0), op);
    if (failed(in))
      return failure();
    l.input = *in;
    l.output = out;
    l.mPos = int32_t(mult[0]);
    l.mNeg = int32_t(mult[1]);
    l.rPos = u32(rshift[0]);
    l.rNeg = u32(rshift[1]);
    return success(groups.emitOrCollect(ctx, l, kl::emitLeakyRelu));
  }
  if (auto prelu = dyn_cast<tpu::PReluOp>(op)) {
    if (rshift.size() != 2)
      return fail("needs quant rshift [r_pos, r_neg]");
    kl::PReluLayer l;
    base(l);
    auto in = global(prelu.getInput(), op);
    auto slope = weightAddr(prelu.getSlope(), op);
    if (failed(in) || failed(slope))
      return failure();
    l.input = *in;
    l.output = out;
    l.slope = *slope;
    l.mPos = int32_t(m0());
    l.rPos = u32(rshift[0]);
    l.rNeg = u32(rshift[1]);
    return success(kl::emitPRelu(ctx, l));
  }
  if (auto concat = dyn_cast<tpu::ConcatOp>(op)) {
    kl::ConcatLayer l;
    base(l);
    int64_t rank = cast<ShapedType>(op->getResult(0).getType()).getRank();
    int64_t axis = concat.getAxis() < 0 ? concat.getAxis() + rank : concat.getAxis();
    if (rank > 4 || axis < 0 || axis >= rank)
      return fail("concat axis outside the 4-D layout");
    l.axis = u32(axis);
    for (Value v : concat.getInputs()) {
      auto in = global(v, op);
      if (failed(in))
        return failure();
      l.inputs.push_back(*in);
    }
    l.output = out;
    for (int64_t m : mult)
      l.multipliers.push_back(int32_t(m));
    for (int64_t r : rshift)
      l.rshifts.push_back(u32(r));
    return success(kl::emitConcat(ctx, l));
  }
  if (auto up = dyn_cast<tpu::UpsampleOp>(op)) {
    kl::UpsampleLayer l;
    base(l);
    auto in = global(up.getInput(), op);
    if (failed(in))
      return failure();
    l.input = *in;
    l.output = out;
    l.scaleH = u32(up.getScaleH());
    l.scaleW = u32(up.getScaleW());
    return success(kl::emitUpsample(ctx, l));
  }
  if (auto perm = dyn_cast<tpu::PermuteOp>(op)) {
    // Leading unit dimensions that stay in place are dropped (e.g. the (1, g, C/g, H, W)
    // transposes of a channel shuffle), leaving at most four.
    std::vector<int64_t> order(perm.getOrder().begin(), perm.getOrder().end());
    ArrayRef<int64_t> inDims = cast<ShapedType>(perm.getInput().getType()).getShape();
    size_t lead = 0;
    while (order.size() - lead > 4 && order[lead] == int64_t(lead) && inDims[lead] == 1)
      ++lead;
    order.erase(order.begin(), order.begin() + lead);
    for (int64_t &o : order)
      o -= int64_t(lead);
    if (order.size() > 4)
      return fail("permute of rank > 4");
    kl::PermuteLayer l;
    base(l);
    auto in = global(perm.getInput(), op);
    if (failed(in))
      return failure();
    l.input = *in;
    l.output = out;
    for (size_t i = 0; i < 4; ++i)
      l.order[i] = i < order.size() ? u32(order[i]) : u32(i);
    return success(kl::emitPermute(ctx, l));
  }
  if (auto shuffle = dyn_cast<tpu::ShuffleChannelOp>(op)) {
    // (N, g, C/g, H*W) -> transpose of the two middle axes -> (N, C/g, g, H*W).
    auto in = global(shuffle.getInput(), op);
    if (failed(in))
      return failure();
    uint32_t g = u32(shuffle.getGroup()), c = in->shape.c, hw = in->shape.h * in->shape.w;
    if (g == 0 || c % g != 0)
      return fail("group does not divide the channels");
    kl::PermuteLayer l;
    base(l);
    l.input = GlobalTensor::dense(in->addr, kernel::Shape{in->shape.n, g, c / g, hw},
                                  kernel::DType::Int8);
    l.output = GlobalTensor::dense(out.addr, kernel::Shape{in->shape.n, c / g, g, hw},
                                   kernel::DType::Int8);
    l.order = {0, 2, 1, 3};
    return success(kl::emitPermute(ctx, l));
  }
  if (auto reshape = dyn_cast<tpu::ReshapeOp>(op)) {
    auto inT = lookup(reshape.getInput(), op);
    if (failed(inT))
      return failure();
    if ((*inT)->gaddr == (*outT)->gaddr) {
      (*outT)->root = (*inT)->root;
      return success(); // shares its input's buffer
    }
    kl::ReshapeLayer l;
    base(l);
    auto in = global(reshape.getInput(), op);
    if (failed(in))
      return failure();
    l.input = *in;
    l.output = out;
    return success(kl::emitReshape(ctx, l));
  }
  if (isa<tpu::SliceOp, tpu::CropOp>(op)) {
    auto offsets = op->getAttrOfType<DenseI64ArrayAttr>("offsets").asArrayRef();
    auto steps = op->getAttrOfType<DenseI64ArrayAttr>("steps");
    if (offsets.size() > 4)
      return fail("slice of rank > 4");
    kl::SliceLayer l;
    base(l);
    auto in = global(op->getOperand(0), op);
    if (failed(in))
      return failure();
    l.input = *in;
    l.output = out;
    for (size_t i = 0; i < offsets.size(); ++i) {
      l.offsets[i] = u32(offsets[i]);
      l.steps[i] = steps ? u32(steps.asArrayRef()[i]) : 1;
    }
    return success(kl::emitSlice(ctx, l));
  }
  if (auto pad = dyn_cast<tpu::PadOp>(op)) {
    if (pad.getMode() != "constant")
      return fail("pad mode '" + pad.getMode() + "' has no kernel (constant only)");
    auto pads = pad.getPads();
    size_t rank = pads.size() / 2;
    if (rank > 4)
      return fail("pad of rank > 4");
    kl::PadLayer l;
    base(l);
    auto in = global(pad.getInput(), op);
    if (failed(in))
      return failure();
    l.input = *in;
    l.output = out;
    for (size_t i = 0; i < rank; ++i) {
      l.padsBegin[i] = u32(pads[i]);
      l.padsEnd[i] = u32(pads[rank + i]);
    }
    l.constVal = int32_t(std::lround(pad.getConstVal().convertToFloat()));
    return success(kl::emitPad(ctx, l));
  }
  if (auto custom = dyn_cast<tpu::CustomOp>(op)) {
    // A TPU custom op: its plugin's codeGenInt8 emits into the routine's Context.
    std::string error;
    if (!pluginsLoaded) {
      pluginsLoaded = true;
      for (const std::string &path : options.customOpPlugins)
        if (!plugins.add(path, error))
          return fail(error);
    }
    cvi::OpParam param;
    if (!sdk::toOpParam(custom.getParam(), param, error))
      return fail(error);
    auto instance = plugins.create(custom.getPluginOpName().str(), name, param, error);
    if (!instance)
      return fail(error);
    sdk::CustomOpInstance::ShapeList shapes;
    std::vector<uint64_t> gaddrs;
    for (Value v : op->getOperands()) {
      auto t = lookup(v, op);
      if (failed(t))
        return failure();
      ArrayRef<int64_t> dims = cast<ShapedType>(v.getType()).getShape();
      shapes.emplace_back(dims.begin(), dims.end());
      gaddrs.push_back(uint64_t((*t)->gaddr));
    }
    ArrayRef<int64_t> rdims = cast<ShapedType>(op->getResult(0).getType()).getShape();
    std::vector<int64_t> resultShape(rdims.begin(), rdims.end());
    if (!instance->codeGenInt8(ctx, shapes, gaddrs, resultShape, uint64_t((*outT)->gaddr),
                               int(layerId), error))
      return fail(error);
    return success();
  }
  if (auto quant = dyn_cast<tpu::QuantOp>(op)) {
    // INT8 -> FP32 output dequantization on the TPU (bf16 precision, as vendor models).
    kl::DequantLayer l;
    base(l);
    auto in = global(quant.getInput(), op);
    if (failed(in))
      return failure();
    l.input = *in;
    l.output = GlobalAddr::fromGaddr(uint64_t((*outT)->gaddr));
    auto threshold = thresholdOf(op);
    l.threshold = threshold ? float(*threshold) : 127.0f / quant.getScale().convertToFloat();
    return success(kl::emitDequant(ctx, l));
  }
  return fail("no INT8 layer kernel for this op");
}

LogicalResult Emitter::emitTpuRoutine(func::FuncOp func, kernel::Context &ctx) {
  for (Operation &op : func.getBody().front()) {
    if (isa<tpu::LoadWeightOp, func::ReturnOp>(op) || groups.emitted(&op))
      continue;
    if (op.hasAttr(kLayerGroupAttr)) {
      if (failed(groups.emitGroup(&op, ctx, [&](Operation *m) { return emitLayer(m, ctx); })))
        return failure();
      if (!ctx.ok()) {
        op.emitError() << "mlir-to-cvimodel: layer group failed: " << ctx.error();
        return failure();
      }
      continue;
    }
    // A kernel that refuses its layer records why in the context (emitLayer's own checks emit
    // their diagnostic themselves).
    bool emitted = succeeded(emitLayer(&op, ctx));
    if (!ctx.ok()) {
      op.emitError() << "mlir-to-cvimodel: layer kernel failed: " << ctx.error();
      return failure();
    }
    if (!emitted)
      return failure();
  }
  return success();
}

LogicalResult Emitter::cpuParams(Operation *op, std::vector<CpuParam> &params) {
  auto add = [&](StringRef key, Attribute a) -> LogicalResult {
    CpuParam p;
    p.key = key.str();
    if (auto b = dyn_cast<BoolAttr>(a)) {
      p.kind = CpuParam::Kind::Bool;
      p.b = b.getValue();
    } else if (auto i = dyn_cast<IntegerAttr>(a)) {
      p.kind = CpuParam::Kind::Int;
      p.i = int32_t(i.getInt());
    } else if (auto f = dyn_cast<FloatAttr>(a)) {
      p.kind = CpuParam::Kind::Float;
      p.f = float(f.getValueAsDouble());
    } else if (auto s = dyn_cast<StringAttr>(a)) {
      p.kind = CpuParam::Kind::String;
      p.s = s.getValue().str();
    } else if (auto di = dyn_cast<DenseI64ArrayAttr>(a)) {
      p.kind = CpuParam::Kind::IntArray;
      for (int64_t v : di.asArrayRef())
        p.ints.push_back(int32_t(v));
    } else if (auto df = dyn_cast<DenseF32ArrayAttr>(a)) {
      p.kind = CpuParam::Kind::FloatArray;
      p.floats.assign(df.asArrayRef().begin(), df.asArrayRef().end());
    } else if (auto arr = dyn_cast<ArrayAttr>(a)) {
      bool ints = llvm::all_of(arr, [](Attribute e) { return isa<IntegerAttr>(e); });
      bool floats = llvm::all_of(arr, [](Attribute e) { return isa<FloatAttr>(e); });
      if (ints) {
        p.kind = CpuParam::Kind::IntArray;
        for (Attribute e : arr)
          p.ints.push_back(int32_t(cast<IntegerAttr>(e).getInt()));
      } else if (floats) {
        p.kind = CpuParam::Kind::FloatArray;
        for (Attribute e : arr)
          p.floats.push_back(float(cast<FloatAttr>(e).getValueAsDouble()));
      } else {
        return op->emitError() << "mlir-to-cvimodel: '" << layerName(op) << "': parameter '" << key
                               << "' is an array the CPU parameter format cannot hold";
      }
    } else {
      return op->emitError() << "mlir-to-cvimodel: '" << layerName(op) << "': parameter '" << key
                             << "' has a type the CPU parameter format cannot hold";
    }
    params.push_back(std::move(p));
    return success();
  };
  if (auto quant = dyn_cast<tpu::QuantOp>(op)) {
    StringRef from = quant.getFrom() == "NONE" ? "FP32" : quant.getFrom();
    StringRef to = quant.getTo() == "NONE" ? "FP32" : quant.getTo();
    Builder b(op->getContext());
    float scale = quant.getScale().convertToFloat();
    // The runtime multiplies in both directions: int8 -> fp32 takes 1 / scale.
    if (to == "FP32")
      scale = 1.0f / scale;
    if (failed(add("from", b.getStringAttr(from))) || failed(add("to", b.getStringAttr(to))) ||
        failed(add("scale", b.getF32FloatAttr(scale))))
      return failure();
    return success();
  }
  if (auto custom = dyn_cast<tpu::CustomOp>(op)) {
    for (NamedAttribute a : custom.getParam())
      if (failed(add(a.getName(), a.getValue())))
        return failure();
    return success();
  }
  // Other fp32 layers: their attributes except the layer bookkeeping.
  for (NamedAttribute a : op->getAttrs()) {
    StringRef key = a.getName();
    if (key == "name" || key == "layer_id" || key == "quant" || key == kGaddrAttr)
      continue;
    if (failed(add(key, a.getValue())))
      return failure();
  }
  return success();
}

static std::string buildTime() {
  std::time_t t = std::time(nullptr);
  if (const char *epoch = std::getenv("SOURCE_DATE_EPOCH"))
    t = std::time_t(std::strtoll(epoch, nullptr, 10));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

LogicalResult Emitter::run(llvm::raw_ostream &os) {
  auto main = module.lookupSymbol<func::FuncOp>("main");
  if (!main || main.isExternal())
    return emitError(module.getLoc(), "mlir-to-cvimodel: no function 'main'");
  Block &block = main.getBody().front();

  rt::CvimodelInfo model;
  model.chip = "cv183x";
  if (auto chip = module->getAttrOfType<StringAttr>("tpu.chip"))
    model.chip = chip.getValue().str();
  if (model.chip != "cv183x")
    return emitError(module.getLoc(), "mlir-to-cvimodel: chip '")
           << model.chip << "' is not supported (cv183x only)";
  model.target = model.chip;
  model.name = "model";
  if (auto name = module->getAttrOfType<StringAttr>("tpu.model_name"))
    model.name = name.getValue().str();
  else if (auto sym = module.getSymName())
    model.name = sym->str();
  model.buildTime = buildTime();
  model.mlirVersion = "tpuc";

  rt::ProgramInfo program;
  program.sharedGmem = u32(getI64(module, kSharedGmemAttr).value_or(0));
  program.privateGmem = u32(getI64(module, kPrivateGmemAttr).value_or(0));
  // neuron_size stays 0 as in vendor models: a nonzero value with shared/private sizes makes
  // the vendor runtime place the private region on top of the shared one.
  program.neuronSize = 0;

  module.walk([&](Operation *op) {
    if (auto id = getI64(op, "layer_id"); id && *id >= 0)
      lastLayerId = std::max(lastLayerId, u32(*id));
  });
  unsigned tpuIndex = 0;
  bool sawCall = false;
  for (Operation &op : block) {
    if (auto input = dyn_cast<tpu::InputOp>(op)) {
      auto t = tensorFor(&op);
      if (failed(t))
        return failure();
      valueTensor[op.getResult(0)] = *t;
      program.inputTensors.push_back((*t)->name);
      continue;
    }
    if (isa<tpu::LoadWeightOp>(op))
      continue;
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (Value v : ret.getOperands()) {
        auto t = lookup(v, &op);
        if (failed(t))
          return failure();
        program.outputTensors.push_back((*t)->name);
      }
      continue;
    }
    auto call = dyn_cast<func::CallOp>(op);
    auto callee = call ? module.lookupSymbol<func::FuncOp>(call.getCallee()) : func::FuncOp();
    auto kind = callee ? callee->getAttrOfType<StringAttr>(kRoutineAttr) : StringAttr();
    if (!kind)
      return op.emitError() << "mlir-to-cvimodel: '" << layerName(&op)
                            << "' is not a routine call; run --divide-ops-to-func first";
    sawCall = true;
    Block &body = callee.getBody().front();
    rt::RoutineInfo routine;
    for (auto [arg, operand] : llvm::zip(body.getArguments(), call.getOperands())) {
      auto t = lookup(operand, &op);
      if (failed(t))
        return failure();
      valueTensor[arg] = *t;
      routine.inTensors.push_back((*t)->name);
    }
    if (kind.getValue() == "tpu") {
      kernel::Context ctx;
      if (failed(emitTpuRoutine(callee, ctx)))
        return failure();
      routine.type = rt::RoutineType::TPU;
      routine.hasTpuRoutine = true;
      routine.cmdbufSection = "subfunc_" + std::to_string(++tpuIndex);
      rt::SectionInfo section;
      section.type = rt::SectionType::CMDBUF;
      section.name = routine.cmdbufSection;
      section.data = ctx.cmdbuf();
      model.sections.push_back(std::move(section));
    } else {
      Operation *cpuOp = nullptr;
      for (Operation &inner : body)
        if (!isa<tpu::LoadWeightOp, func::ReturnOp>(inner)) {
          if (cpuOp)
            return callee.emitError("mlir-to-cvimodel: a CPU routine must hold one op");
          cpuOp = &inner;
        }
      if (!cpuOp)
        return callee.emitError("mlir-to-cvimodel: empty CPU routine");
      for (Value v : cpuOp->getOperands())
        if (v.getDefiningOp<tpu::LoadWeightOp>())
          return cpuOp->emitError() << "mlir-to-cvimodel: '" << layerName(cpuOp)
                                    << "': CPU routines with weight operands are not supported";
      auto t = tensorFor(cpuOp);
      if (failed(t))
        return failure();
      valueTensor[cpuOp->getResult(0)] = *t;
      std::vector<CpuParam> params;
      if (failed(cpuParams(cpuOp, params)))
        return failure();
      std::string error;
      routine.type = rt::RoutineType::CPU;
      routine.hasCpuRoutine = true;
      routine.functionName = callee->getAttrOfType<StringAttr>(kCpuFunctionAttr)
                                 ? callee->getAttrOfType<StringAttr>(kCpuFunctionAttr).str()
                                 : cpuFunctionName(cpuOp);
      if (!encodeCpuParams(params, routine.functionArgs, error))
        return cpuOp->emitError() << "mlir-to-cvimodel: '" << layerName(cpuOp)
                                  << "': cannot encode the CPU parameters: " << error;
    }
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    for (auto [v, result] : llvm::zip(ret.getOperands(), call.getResults())) {
      auto t = lookup(v, ret);
      if (failed(t))
        return failure();
      valueTensor[result] = *t;
      routine.outTensors.push_back((*t)->name);
    }
    program.routines.push_back(std::move(routine));
  }
  if (!sawCall)
    return emitError(module.getLoc(),
                     "mlir-to-cvimodel: main has no routine calls; run --divide-ops-to-func");

  // Tensor map, in order of first appearance. A tensor whose bytes a later tensor reuses
  // (neuron memory reuse) is marked `overwrote`: its contents do not survive the run.
  auto overwritten = [&](const Tensor &t) {
    for (auto &o : tensors) {
      if (o->order <= t.order || o->root == t.root || gaddrRegion(o->gaddr) != gaddrRegion(t.gaddr))
        continue;
      uint64_t a = gaddrOffset(t.gaddr), b = gaddrOffset(o->gaddr);
      if (a < b + o->bytes && b < a + t.bytes)
        return true;
    }
    return false;
  };
  uint32_t id = 0;
  for (auto &t : tensors) {
    rt::TensorInfo info;
    info.id = id++;
    info.name = t->name;
    info.offset = t->gaddr;
    info.dtype = t->dtype;
    info.shape.assign(t->shape.begin(), t->shape.end());
    rt::QuantInfo q;
    q.type = t->int8 ? 2 : 0; // INT8_SYM / NONE
    q.qscale = t->qscale;
    q.maxValue = t->int8 ? t->qscale * 127.0f : 0.0f;
    q.minValue = -q.maxValue;
    info.quant = q;
    info.size = t->bytes;
    info.overwrote = overwritten(*t) || groups.internal.contains(t->name);
    program.tensors.push_back(std::move(info));
  }
  model.programs.push_back(std::move(program));

  // Weight section.
  std::string weightPath = options.weightFile;
  if (weightPath.empty())
    if (auto bin = module->getAttrOfType<StringAttr>(kWeightBinAttr))
      weightPath = bin.getValue().str();
  rt::SectionInfo weight;
  weight.type = rt::SectionType::WEIGHT;
  weight.name = "weight";
  if (!weightPath.empty()) {
    auto buffer = llvm::MemoryBuffer::getFile(weightPath, /*IsText=*/false,
                                              /*RequiresNullTerminator=*/false);
    if (!buffer)
      return emitError(module.getLoc(), "mlir-to-cvimodel: cannot read weight file '")
             << weightPath << "': " << buffer.getError().message();
    StringRef bytes = (*buffer)->getBuffer();
    weight.data.assign(bytes.begin(), bytes.end());
  } else if (!weightInfos.empty()) {
    return emitError(module.getLoc(),
                     "mlir-to-cvimodel: the model has weights but no --weight-file was given");
  }
  if (auto size = getI64(module, kWeightSizeAttr); size && uint64_t(*size) != weight.data.size())
    return emitError(module.getLoc(), "mlir-to-cvimodel: weight file '")
           << weightPath << "' has " << weight.data.size() << " bytes, the module expects " << *size
           << " (written by another --assign-weight-address run?)";
  for (const rt::WeightInfo &w : weightInfos)
    if (uint64_t(w.offset) + w.size > weight.data.size())
      return emitError(module.getLoc(), "mlir-to-cvimodel: weight '")
             << w.name << "' lies outside the weight file";
  std::sort(weightInfos.begin(), weightInfos.end(),
            [](const rt::WeightInfo &a, const rt::WeightInfo &b) { return a.offset < b.offset; });
  model.weights = std::move(weightInfos);
  model.sections.insert(model.sections.begin(), std::move(weight));

  // Custom runtime libraries.
  for (const std::string &lib : options.customRuntimeLibs) {
    auto buffer = llvm::MemoryBuffer::getFile(lib, /*IsText=*/false,
                                              /*RequiresNullTerminator=*/false);
    if (!buffer)
      return emitError(module.getLoc(), "mlir-to-cvimodel: cannot read custom runtime library '")
             << lib << "': " << buffer.getError().message();
    StringRef bytes = (*buffer)->getBuffer();
    if (bytes.size() < 20 || !bytes.starts_with("\x7f"
                                                "ELF"))
      return emitError(module.getLoc(), "mlir-to-cvimodel: '") << lib << "' is not an ELF file";
    unsigned machine = uint8_t(bytes[18]) | (unsigned(uint8_t(bytes[19])) << 8);
    rt::SectionInfo section;
    if (machine == 0x3E)
      section.type = rt::SectionType::FUNC_X86;
    else if (machine == 0xB7)
      section.type = rt::SectionType::FUNC_AARCH64;
    else
      return emitError(module.getLoc(), "mlir-to-cvimodel: '")
             << lib << "' is an ELF file for machine " << machine
             << ", neither x86-64 (62) nor aarch64 (183)";
    section.name = llvm::sys::path::filename(lib).str();
    section.data.assign(bytes.begin(), bytes.end());
    model.sections.push_back(std::move(section));
  }

  std::vector<uint8_t> file;
  std::string error;
  if (!serializeCvimodel(model, file, error))
    return emitError(module.getLoc(), "mlir-to-cvimodel: cannot write the cvimodel: ") << error;
  os.write(reinterpret_cast<const char *>(file.data()), file.size());
  return success();
}

} // namespace

LogicalResult emitCvimodel(ModuleOp module, const CvimodelOptions &options, llvm::raw_ostream &os) {
  return Emitter(module, options).run(os);
}

} // namespace tpuc::backend
