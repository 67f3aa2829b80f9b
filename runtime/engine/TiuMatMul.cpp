#include "TiuCommon.h"
namespace tpuc::runtime {
void executeMatMul(TiuOp &op) { op.unsupported(TiuField::tsk_typ, "task (not implemented yet)"); }
} // namespace tpuc::runtime
