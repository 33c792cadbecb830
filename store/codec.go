package store

import (
	"encoding/json"

	"github.com/gantry-sdk/gantry/apis"
)

// Codec turns objects into the bytes kept in the KV and back.
type Codec interface {
	Encode(obj apis.Object) ([]byte, error)
	// Decode fills into, a new object of the right kind, from data.
	Decode(data []byte, into apis.Object) error
}

// JSONCodec encodes objects with encoding/json, so stored values are the
// objects' Kubernetes JSON. It is the default Codec.
type JSONCodec struct{}

// Encode marshals obj.
func (JSONCodec) Encode(obj apis.Object) ([]byte, error) { return json.Marshal(obj) }

// Decode unmarshals data into into.
func (JSONCodec) Decode(data []byte, into apis.Object) error { return json.Unmarshal(data, into) }
