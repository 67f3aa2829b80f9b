#include "TiuCommon.h"
namespace tpuc::runtime {
void executeTensorArith(TiuOp &op) {
  op.unsupported(TiuField::tsk_typ, "task (not implemented yet)");
}
} // namespace tpuc::runtime
