package nativelib

var (
	ParseHTMLIndex = parseHTMLIndex
	ParseJSONIndex = parseJSONIndex
)
