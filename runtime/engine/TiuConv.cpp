#include "TiuCommon.h"
namespace tpuc::runtime {
void executeConv(TiuOp &op) { op.unsupported(TiuField::tsk_typ, "task (not implemented yet)"); }
} // namespace tpuc::runtime
