package memory

import (
	"encoding/binary"
	"hash/crc32"

	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of walpb.Record, walpb.Txn and walpb.Write (see walpb.proto).
const (
	fieldRecordTxn  = 1
	fieldTxnRev     = 1
	fieldTxnWrites  = 2
	fieldWriteKey   = 1
	fieldWriteValue = 2
	fieldWriteDel   = 3
)

// appendTxnFrame appends the frame of the walpb.Record of revision rev to
// dst. It writes the protobuf wire format directly, the bytes proto.Marshal
// produces for the same message (TestTxnEncodingMatchesProto), without the
// reflection and allocations of building the message: this runs once per
// write on the committer's path.
func appendTxnFrame(dst []byte, rev int64, ws []write) []byte {
	writeSize := func(w *write) int {
		n := protowire.SizeTag(fieldWriteKey) + protowire.SizeBytes(len(w.key))
		if len(w.value) > 0 {
			n += protowire.SizeTag(fieldWriteValue) + protowire.SizeBytes(len(w.value))
		}
		if w.del {
			n += protowire.SizeTag(fieldWriteDel) + 1
		}
		return n
	}
	txnSize := protowire.SizeTag(fieldTxnRev) + protowire.SizeVarint(uint64(rev))
	for i := range ws {
		txnSize += protowire.SizeTag(fieldTxnWrites) + protowire.SizeBytes(writeSize(&ws[i]))
	}
	start := len(dst)
	dst = append(dst, make([]byte, frameHeader)...)
	dst = protowire.AppendTag(dst, fieldRecordTxn, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(txnSize))
	dst = protowire.AppendTag(dst, fieldTxnRev, protowire.VarintType)
	dst = protowire.AppendVarint(dst, uint64(rev))
	for i := range ws {
		w := &ws[i]
		dst = protowire.AppendTag(dst, fieldTxnWrites, protowire.BytesType)
		dst = protowire.AppendVarint(dst, uint64(writeSize(w)))
		dst = protowire.AppendTag(dst, fieldWriteKey, protowire.BytesType)
		dst = protowire.AppendString(dst, w.key)
		if len(w.value) > 0 {
			dst = protowire.AppendTag(dst, fieldWriteValue, protowire.BytesType)
			dst = protowire.AppendBytes(dst, w.value)
		}
		if w.del {
			dst = protowire.AppendTag(dst, fieldWriteDel, protowire.VarintType)
			dst = protowire.AppendVarint(dst, 1)
		}
	}
	sealFrame(dst[start:])
	return dst
}

// sealFrame fills in the header of the frame that makes up all of f.
func sealFrame(f []byte) {
	payload := f[frameHeader:]
	binary.LittleEndian.PutUint32(f[0:4], uint32(len(payload)))
	binary.LittleEndian.PutUint32(f[4:8], crc32.Checksum(payload, castagnoli))
	binary.LittleEndian.PutUint32(f[8:12], crc32.Checksum(f[0:8], castagnoli))
}
