//===- TiuCommon.cpp - TIU operand tables and dispatch --------------------===//
#include "TiuCommon.h"
#include "Tiu.h"

namespace tpuc::runtime {

using T = TiuField;

const TiuOperand kRes0{"res0",           T::res0_addr,     T::res0_n,     T::res0_c,
                       T::res0_h,        T::res0_w,        T::res0_n_str, T::res0_c_str,
                       T::res0_h_str,    T::res0_w_str,    T::res0_b_str, T::short_res0_str,
                       T::opt_res0_sign, T::opt_res0_int8, std::nullopt};
const TiuOperand kOpd0{"opd0",           T::opd0_addr,     T::opd0_n,        T::opd0_c,
                       T::opd0_h,        T::opd0_w,        T::opd0_n_str,    T::opd0_c_str,
                       T::opd0_h_str,    T::opd0_w_str,    T::opd0_b_str,    T::short_opd0_str,
                       T::opt_opd0_sign, T::opt_opd0_int8, T::opt_opd0_const};
const TiuOperand kOpd1{"opd1",           T::opd1_addr,     T::opd1_n,        T::opd1_c,
                       T::opd1_h,        T::opd1_w,        T::opd1_n_str,    T::opd1_c_str,
                       T::opd1_h_str,    T::opd1_w_str,    T::opd1_b_str,    T::short_opd1_str,
                       T::opt_opd1_sign, T::opt_opd1_int8, T::opt_opd1_const};
const TiuOperand kOpd2{"opd2",           T::opd2_addr,     T::opd2_n,        T::opd2_c,
                       T::opd2_h,        T::opd2_w,        T::opd2_n_str,    T::opd2_c_str,
                       T::opd2_h_str,    T::opd2_w_str,    T::opd2_b_str,    T::short_opd2_str,
                       T::opt_opd2_sign, T::opt_opd2_int8, T::opt_opd2_const};

namespace {

/// Element operations a descriptor asks for (an upper bound), to refuse descriptors whose
/// simulation would not finish (zero strides let huge shapes fit in local memory).
double workEstimate(const TiuFieldValues &f) {
  double res = static_cast<double>(f[T::res0_n]) * f[T::res0_c] * f[T::res0_h] * f[T::res0_w];
  double kernel = static_cast<double>(f[T::opd1_h]) * f[T::opd1_w];
  switch (static_cast<TiuTask>(f[T::tsk_typ])) {
  case TiuTask::Conv:
    return res * kernel * f[T::opd0_c] +
           static_cast<double>(f[T::opd0_n]) * f[T::opd0_c] * f[T::opd0_h] * f[T::opd0_w];
  case TiuTask::DepthwisePool:
    return res * kernel +
           static_cast<double>(f[T::opd0_n]) * f[T::opd0_c] * f[T::opd0_h] * f[T::opd0_w];
  case TiuTask::MatMul:
    return res * f[T::opd1_n];
  default:
    return res;
  }
}

constexpr double kMaxWork = 17179869184.0; // 2^34 element operations

} // namespace

void executeTiu(const TiuFieldValues &fields, ExecContext &ctx) {
  TiuOp op(fields, ctx);
  if (!fields[T::cmd_en])
    throw Error(ctx.where("cmd_en") + ": descriptor is not enabled");
  if (workEstimate(fields) > kMaxWork)
    throw Error(ctx.where() + ": shapes ask for more than 2^34 element operations (" +
                std::to_string(workEstimate(fields)) + "); refusing to simulate");
  switch (static_cast<TiuTask>(fields[T::tsk_typ])) {
  case TiuTask::Conv:
    executeConv(op);
    return;
  case TiuTask::DepthwisePool:
    if (static_cast<PoolKind>(fields[T::tsk_eu_typ]) == PoolKind::Depthwise)
      executeDepthwise(op);
    else
      executePool(op);
    return;
  case TiuTask::MatMul:
    executeMatMul(op);
    return;
  case TiuTask::TensorArith:
    executeTensorArith(op);
    return;
  }
  throw Error(ctx.where("tsk_typ") + ": unsupported task type " +
              std::to_string(fields[T::tsk_typ]));
}

const char *tiuOpName(const TiuFieldValues &f) {
  switch (static_cast<TiuTask>(f[T::tsk_typ])) {
  case TiuTask::Conv:
    return "conv";
  case TiuTask::DepthwisePool:
    switch (static_cast<PoolKind>(f[T::tsk_eu_typ])) {
    case PoolKind::Max:
      return "max_pool";
    case PoolKind::Avg:
      return "avg_pool";
    case PoolKind::Depthwise:
      return "depthwise";
    case PoolKind::Min:
      return "min_pool";
    }
    return "pool";
  case TiuTask::MatMul:
    return "matmul";
  case TiuTask::TensorArith:
    if (f[T::tens_lookup])
      return "lut";
    if (f[T::tens_mdsum])
      return "mdsum";
    switch (static_cast<ArithKind>(f[T::tsk_eu_typ])) {
    case ArithKind::Mul:
      return f[T::opt_chl_quan] ? "mul_qm" : "mul";
    case ArithKind::Mac:
      return "mac";
    case ArithKind::Add:
      return "add";
    case ArithKind::Sub:
      return "sub";
    case ArithKind::Max:
      return "max";
    case ArithKind::Min:
      return "min";
    case ArithKind::Shift:
      return "shift";
    case ArithKind::And:
      return "and";
    case ArithKind::Or:
      return "or";
    case ArithKind::Xor:
      return "xor";
    case ArithKind::Copy:
      return "copy";
    case ArithKind::Ge:
      return "ge";
    case ArithKind::Lut:
      return "lut";
    }
    return "arith";
  }
  return "tiu";
}

} // namespace tpuc::runtime
