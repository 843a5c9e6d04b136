package commitments

// regionCodes maps the region names the CUR's savings_plan_region column
// uses ("US East (N. Virginia)") to region codes.
func regionCode(name string) string {
	switch name {
	case "US East (N. Virginia)":
		return "us-east-1"
	case "US East (Ohio)":
		return "us-east-2"
	case "US West (N. California)":
		return "us-west-1"
	case "US West (Oregon)":
		return "us-west-2"
	case "Africa (Cape Town)":
		return "af-south-1"
	case "Asia Pacific (Hong Kong)":
		return "ap-east-1"
	case "Asia Pacific (Mumbai)":
		return "ap-south-1"
	case "Asia Pacific (Hyderabad)":
		return "ap-south-2"
	case "Asia Pacific (Tokyo)":
		return "ap-northeast-1"
	case "Asia Pacific (Seoul)":
		return "ap-northeast-2"
	case "Asia Pacific (Osaka)":
		return "ap-northeast-3"
	case "Asia Pacific (Singapore)":
		return "ap-southeast-1"
	case "Asia Pacific (Sydney)":
		return "ap-southeast-2"
	case "Asia Pacific (Jakarta)":
		return "ap-southeast-3"
	case "Asia Pacific (Melbourne)":
		return "ap-southeast-4"
	case "Canada (Central)":
		return "ca-central-1"
	case "Europe (Frankfurt)":
		return "eu-central-1"
	case "Europe (Zurich)":
		return "eu-central-2"
	case "Europe (Ireland)":
		return "eu-west-1"
	case "Europe (London)":
		return "eu-west-2"
	case "Europe (Paris)":
		return "eu-west-3"
	case "Europe (Milan)":
		return "eu-south-1"
	case "Europe (Spain)":
		return "eu-south-2"
	case "Europe (Stockholm)":
		return "eu-north-1"
	case "Middle East (Bahrain)":
		return "me-south-1"
	case "Middle East (UAE)":
		return "me-central-1"
	case "South America (Sao Paulo)", "South America (São Paulo)":
		return "sa-east-1"
	case "AWS GovCloud (US-West)":
		return "us-gov-west-1"
	case "AWS GovCloud (US-East)":
		return "us-gov-east-1"
	}
	return name // already a code, or a region this table does not know
}
