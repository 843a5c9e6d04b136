package inventory

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// ec2 reads instances, volumes, the account's own snapshots and AMIs,
// launch templates, Elastic IPs and NAT gateways of the region.
func (r *region) ec2() {
	client := ec2.NewFromConfig(r.cfg)
	ctx := r.ctx
	types := map[string]bool{}
	for p := ec2.NewDescribeInstancesPaginator(client, &ec2.DescribeInstancesInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			r.fail("ec2", "DescribeInstances", err)
			break
		}
		for _, res := range page.Reservations {
			for _, i := range res.Instances {
				id := aws.ToString(i.InstanceId)
				tags := ec2Tags(i.Tags)
				meta := map[string]any{"instance_type": string(i.InstanceType), "architecture": string(i.Architecture),
					"platform": aws.ToString(i.PlatformDetails), "availability_zone": aws.ToString(i.Placement.AvailabilityZone)}
				if i.InstanceLifecycle != "" {
					meta["lifecycle"] = string(i.InstanceLifecycle)
				}
				if i.StateTransitionReason != nil && *i.StateTransitionReason != "" {
					meta["state_reason"] = aws.ToString(i.StateTransitionReason)
				}
				res := Resource{ARN: r.arn("ec2", "instance/"+id), Service: "ec2", Type: "instance", ID: id, Name: tags["Name"],
					Tags: tags, Metadata: meta, Created: aws.ToTime(i.LaunchTime)}
				if i.State != nil {
					res.State = string(i.State.Name)
				}
				types[string(i.InstanceType)] = true
				r.add(res)
			}
		}
	}
	r.instanceTypes(client, types)

	for p := ec2.NewDescribeVolumesPaginator(client, &ec2.DescribeVolumesInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			r.fail("ec2", "DescribeVolumes", err)
			break
		}
		for _, v := range page.Volumes {
			id := aws.ToString(v.VolumeId)
			tags := ec2Tags(v.Tags)
			meta := map[string]any{"volume_type": string(v.VolumeType), "size_gb": int(aws.ToInt32(v.Size)),
				"availability_zone": aws.ToString(v.AvailabilityZone), "encrypted": aws.ToBool(v.Encrypted)}
			if v.Iops != nil {
				meta["iops"] = int(*v.Iops)
			}
			if v.Throughput != nil {
				meta["throughput_mibps"] = int(*v.Throughput)
			}
			if v.SnapshotId != nil && *v.SnapshotId != "" {
				meta["snapshot_id"] = *v.SnapshotId
			}
			res := Resource{ARN: r.arn("ec2", "volume/"+id), Service: "ec2", Type: "volume", ID: id, Name: tags["Name"], Tags: tags,
				State: string(v.State), Created: aws.ToTime(v.CreateTime), Metadata: meta}
			for _, a := range v.Attachments {
				res.Relations = append(res.Relations, Relation{Kind: "attached-to", Target: r.arn("ec2", "instance/"+aws.ToString(a.InstanceId))})
			}
			r.add(res)
		}
	}

	// Which snapshots are in use: by the account's AMIs, and by launch
	// templates (directly, or through the AMI they launch).
	usedBy := map[string][]string{} // snapshot ID -> ARNs of images and templates
	imageSnaps := map[string][]string{}
	images, err := client.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}})
	if err != nil {
		r.fail("ec2", "DescribeImages", err)
	} else {
		for _, im := range images.Images {
			id := aws.ToString(im.ImageId)
			arn := "arn:aws:ec2:" + r.name + "::image/" + id
			tags := ec2Tags(im.Tags)
			res := Resource{ARN: arn, Service: "ec2", Type: "image", ID: id, Name: aws.ToString(im.Name), Tags: tags, State: string(im.State),
				Metadata: map[string]any{"architecture": string(im.Architecture)}}
			if t := parseTime(aws.ToString(im.CreationDate)); !t.IsZero() {
				res.Created = t
			}
			for _, b := range im.BlockDeviceMappings {
				if b.Ebs != nil && aws.ToString(b.Ebs.SnapshotId) != "" {
					s := aws.ToString(b.Ebs.SnapshotId)
					usedBy[s] = append(usedBy[s], arn)
					imageSnaps[id] = append(imageSnaps[id], s)
				}
			}
			r.add(res)
		}
	}
	r.launchTemplates(client, usedBy, imageSnaps)

	for p := ec2.NewDescribeSnapshotsPaginator(client, &ec2.DescribeSnapshotsInput{OwnerIds: []string{"self"}}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			r.fail("ec2", "DescribeSnapshots", err)
			break
		}
		for _, s := range page.Snapshots {
			// Only the account's own: the emulator also answers "self" with
			// the snapshots behind Amazon's public AMIs.
			if o := aws.ToString(s.OwnerId); o != "" && o != string(r.account) {
				continue
			}
			id := aws.ToString(s.SnapshotId)
			tags := ec2Tags(s.Tags)
			res := Resource{ARN: r.arn("ec2", "snapshot/"+id), Service: "ec2", Type: "snapshot", ID: id, Name: tags["Name"], Tags: tags,
				State: string(s.State), Created: aws.ToTime(s.StartTime),
				Metadata: map[string]any{"volume_id": aws.ToString(s.VolumeId), "size_gb": int(aws.ToInt32(s.VolumeSize)), "storage_tier": string(s.StorageTier)}}
			for _, u := range usedBy[id] {
				res.Relations = append(res.Relations, Relation{Kind: "used-by", Target: u})
			}
			r.add(res)
		}
	}

	addrs, err := client.DescribeAddresses(ctx, &ec2.DescribeAddressesInput{})
	if err != nil {
		r.fail("ec2", "DescribeAddresses", err)
	} else {
		for _, a := range addrs.Addresses {
			id := aws.ToString(a.AllocationId)
			if id == "" {
				id = aws.ToString(a.PublicIp) // EC2-Classic addresses have no allocation ID
			}
			tags := ec2Tags(a.Tags)
			res := Resource{ARN: r.arn("ec2", "elastic-ip/"+id), Service: "ec2", Type: "elastic-ip", ID: id, Name: tags["Name"], Tags: tags,
				State: "unassociated", Metadata: map[string]any{"public_ip": aws.ToString(a.PublicIp)}}
			if a.AssociationId != nil {
				res.State = "associated"
				res.Metadata["association_id"] = aws.ToString(a.AssociationId)
			}
			if eni := aws.ToString(a.NetworkInterfaceId); eni != "" {
				res.Relations = append(res.Relations, Relation{Kind: "associated-with", Target: r.arn("ec2", "network-interface/"+eni)})
			}
			if i := aws.ToString(a.InstanceId); i != "" {
				res.Relations = append(res.Relations, Relation{Kind: "associated-with", Target: r.arn("ec2", "instance/"+i)})
			}
			r.add(res)
		}
	}

	for p := ec2.NewDescribeNatGatewaysPaginator(client, &ec2.DescribeNatGatewaysInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			r.fail("ec2", "DescribeNatGateways", err)
			break
		}
		for _, n := range page.NatGateways {
			id := aws.ToString(n.NatGatewayId)
			tags := ec2Tags(n.Tags)
			r.add(Resource{ARN: r.arn("ec2", "natgateway/"+id), Service: "ec2", Type: "natgateway", ID: id, Name: tags["Name"], Tags: tags,
				State: string(n.State), Created: aws.ToTime(n.CreateTime),
				Metadata: map[string]any{"vpc_id": aws.ToString(n.VpcId), "subnet_id": aws.ToString(n.SubnetId), "connectivity_type": string(n.ConnectivityType)}})
		}
	}
}

// instanceTypes adds vCPUs and memory to the region's instances (the
// rightsizing rules compare them), one call per 100 types.
func (r *region) instanceTypes(client *ec2.Client, seen map[string]bool) {
	var names []ec2types.InstanceType
	for t := range seen {
		if t != "" {
			names = append(names, ec2types.InstanceType(t))
		}
	}
	specs := map[string]ec2types.InstanceTypeInfo{}
	for start := 0; start < len(names); start += 100 {
		out, err := client.DescribeInstanceTypes(r.ctx, &ec2.DescribeInstanceTypesInput{InstanceTypes: names[start:min(start+100, len(names))]})
		if err != nil {
			r.fail("ec2", "DescribeInstanceTypes", err)
			return
		}
		for _, it := range out.InstanceTypes {
			specs[string(it.InstanceType)] = it
		}
	}
	for i := range r.out {
		res := &r.out[i]
		if res.Type != "instance" {
			continue
		}
		it, ok := specs[res.MetaString("instance_type")]
		if !ok {
			continue
		}
		if it.VCpuInfo != nil {
			res.Metadata["vcpus"] = int(aws.ToInt32(it.VCpuInfo.DefaultVCpus))
		}
		if it.MemoryInfo != nil {
			res.Metadata["memory_mib"] = int(aws.ToInt64(it.MemoryInfo.SizeInMiB))
		}
		res.Metadata["current_generation"] = aws.ToBool(it.CurrentGeneration)
	}
}

// launchTemplates records each template as a resource and the snapshots
// its latest and default versions use (directly or through their AMI).
func (r *region) launchTemplates(client *ec2.Client, usedBy map[string][]string, imageSnaps map[string][]string) {
	for p := ec2.NewDescribeLaunchTemplatesPaginator(client, &ec2.DescribeLaunchTemplatesInput{}); p.HasMorePages(); {
		page, err := p.NextPage(r.ctx)
		if err != nil {
			r.fail("ec2", "DescribeLaunchTemplates", err)
			return
		}
		for _, lt := range page.LaunchTemplates {
			id := aws.ToString(lt.LaunchTemplateId)
			arn := r.arn("ec2", "launch-template/"+id)
			res := Resource{ARN: arn, Service: "ec2", Type: "launch-template", ID: id, Name: aws.ToString(lt.LaunchTemplateName),
				Tags: ec2Tags(lt.Tags), Created: aws.ToTime(lt.CreateTime), State: "available",
				Metadata: map[string]any{"latest_version": int(aws.ToInt64(lt.LatestVersionNumber)), "default_version": int(aws.ToInt64(lt.DefaultVersionNumber))}}
			vs, err := client.DescribeLaunchTemplateVersions(r.ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: lt.LaunchTemplateId, Versions: []string{"$Latest", "$Default"}})
			if err != nil {
				r.fail("ec2", "DescribeLaunchTemplateVersions", err)
				r.add(res)
				continue
			}
			seen := map[string]bool{}
			use := func(snap string) {
				if snap != "" && !seen[snap] {
					seen[snap] = true
					usedBy[snap] = append(usedBy[snap], arn)
				}
			}
			for _, v := range vs.LaunchTemplateVersions {
				d := v.LaunchTemplateData
				if d == nil {
					continue
				}
				if img := aws.ToString(d.ImageId); img != "" {
					res.Relations = append(res.Relations, Relation{Kind: "uses", Target: "arn:aws:ec2:" + r.name + "::image/" + img})
					for _, s := range imageSnaps[img] {
						use(s)
					}
				}
				for _, b := range d.BlockDeviceMappings {
					if b.Ebs != nil {
						use(aws.ToString(b.Ebs.SnapshotId))
					}
				}
				if d.InstanceType != "" {
					res.Metadata["instance_type"] = string(d.InstanceType)
				}
			}
			r.add(res)
		}
	}
}
