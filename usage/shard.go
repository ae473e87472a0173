package usage

import "hash/fnv"

// Shards is how many records share one domain, each holding the resources whose key
// hashes to it. Every change touches one resource, so no change spans records; a fleet
// of tens of thousands of portals with their own providers, strategies and
// publications stays far below Temporal's payload limits per record.
const Shards = 8

// ShardOf is the record of a domain that holds the resource.
func ShardOf(k Key) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(string(k.Kind) + "\x00" + k.Name))
	return int(h.Sum32() % Shards)
}
