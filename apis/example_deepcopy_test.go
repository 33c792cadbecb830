package apis_test

import (
	"fmt"

	"github.com/gantry-sdk/gantry/apis"
)

func ExampleDeepCopy() {
	cached := &Website{
		ObjectMeta: apis.ObjectMeta{Name: "blog", Labels: map[string]string{"tier": "web"}},
		Spec:       WebsiteSpec{Domain: "blog.example.com", Replicas: 2},
	}
	// Objects from a shared cache are read-only: copy before changing one.
	mine := apis.DeepCopy(cached)
	mine.Labels["tier"] = "edge"
	mine.Spec.Replicas = 3

	fmt.Println(cached.Labels["tier"], cached.Spec.Replicas)
	fmt.Println(mine.Labels["tier"], mine.Spec.Replicas)

	// The Object interface works too: the copy has the same dynamic type.
	var obj apis.Object = cached
	fmt.Printf("%T\n", apis.DeepCopy(obj))
	// Output:
	// web 2
	// edge 3
	// *apis_test.Website
}
