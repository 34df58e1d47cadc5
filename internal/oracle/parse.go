package oracle

import "strings"

// signingParams are CloudFront's signing parameter names.
var signingParams = map[string]bool{"Expires": true, "Policy": true, "Signature": true, "Key-Pair-Id": true, "Hash-Algorithm": true}

// Split separates a signed URL into the URL the viewer asked for (with its
// own query parameters, in order) and the signing parameters, so that
// signers that order the parameters differently can be compared. Values
// are kept raw (not percent-decoded).
func Split(signed string) (base string, params map[string]string) {
	params = map[string]string{}
	path, query, ok := strings.Cut(signed, "?")
	if !ok {
		return signed, params
	}
	var own []string
	for _, p := range strings.Split(query, "&") {
		name, value, _ := strings.Cut(p, "=")
		if signingParams[name] {
			params[name] = value
			continue
		}
		own = append(own, p)
	}
	if len(own) == 0 {
		return path, params
	}
	return path + "?" + strings.Join(own, "&"), params
}
