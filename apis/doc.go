// Package apis is Gantry's object model: TypeMeta and ObjectMeta, the Scheme
// that maps Go types to kinds, manifest codecs and deep copy. Kinds are plain
// Go structs; nothing is generated.
//
// # Usage
//
// Register kinds in a Scheme (built-in groups provide theirs), then decode
// manifests with a Codec. The Go type is picked from apiVersion and kind;
// unknown fields come back as warnings with their full path, or fail the
// document in Strict mode:
//
//	c := apis.Codec{Scheme: scheme}
//	objs, warnings, err := c.DecodeAll(yamlStream) // `---`-separated YAML, or JSON objects
//	for _, w := range warnings {
//		log.Print(w) // document[0] (line 1): unknown field "spec.template.spec.containers[0].imagee"
//	}
//	if err != nil { ... } // one *DocumentError per bad document, joined
//
//	out, err := c.EncodeYAML(objs...) // apiVersion and kind filled in from the Scheme
//
// Copy an object before changing one that other goroutines may read (a cache's):
//
//	mine := apis.DeepCopy(pod)
package apis
