#include "TiuCommon.h"
namespace tpuc::runtime {
void executePool(TiuOp &op) { op.unsupported(TiuField::tsk_typ, "task (not implemented yet)"); }
void executeDepthwise(TiuOp &op) {
  op.unsupported(TiuField::tsk_typ, "depthwise (not implemented yet)");
}
} // namespace tpuc::runtime
