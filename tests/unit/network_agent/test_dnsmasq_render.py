"""dnsmasq's command line and files for a network."""

from __future__ import annotations

import os

import pytest

from agents.network import dnsmasq
from agents.network.exception import HostCommandError, InvalidInput

NET = "aaaaaaaa-2222-3333-4444-555555555555"
SUB = "bbbbbbbb-2222-3333-4444-555555555555"


def network(**extra):
    subnet = {"id": SUB, "network_id": NET, "cidr": "10.0.0.0/24", "ip_version": 4,
              "gateway_ip": "10.0.0.1", "enable_dhcp": True, "dns_nameservers": [],
              "host_routes": [], "allocation_pools": []}
    subnet.update(extra.pop("subnet", {}))
    dhcp_port = {"id": "cccccccc-2222-3333-4444-555555555555", "mac_address": "fa:16:3e:00:00:02",
                 "device_owner": "network:dhcp",
                 "fixed_ips": [{"subnet_id": SUB, "ip_address": "10.0.0.2"}]}
    vm = {"id": "dddddddd-2222-3333-4444-555555555555", "mac_address": "fa:16:3e:00:00:05",
          "device_owner": "compute:nova", "fixed_ips": [{"subnet_id": SUB,
                                                         "ip_address": "10.0.0.5"}]}
    data = {"id": NET, "mtu": 1450, "subnets": [subnet], "ports": [dhcp_port, vm],
            "dhcp_port": dhcp_port}
    data.update(extra)
    return data


def test_isolated_subnet_routes_metadata_via_the_dhcp_port():
    config = dnsmasq.render(network(), "tapcccccccc-22", "/state", dnsmasq.Settings())
    assert "fa:16:3e:00:00:05,host-10-0-0-5.openstacklocal,10.0.0.5\n" in config.files["host"]
    opts = config.files["opts"]
    assert f"tag:subnet-{SUB},option:router,10.0.0.1" in opts
    assert (f"tag:subnet-{SUB},option:classless-static-route,169.254.169.254/32,10.0.0.2,"
            "0.0.0.0/0,10.0.0.1") in opts
    assert f"tag:subnet-{SUB},option:mtu,1450" in opts
    assert f"--dhcp-range=set:subnet-{SUB},10.0.0.0,static,255.255.255.0,86400s" in config.args
    assert "--interface=tapcccccccc-22" in config.args
    assert f"--pid-file=/state/{NET}/pid" in config.args


def test_routed_subnet_routes_metadata_via_the_router():
    net = network()
    net["ports"].append({"id": "eeeeeeee-2222-3333-4444-555555555555",
                         "mac_address": "fa:16:3e:00:00:01",
                         "device_owner": "network:router_interface",
                         "fixed_ips": [{"subnet_id": SUB, "ip_address": "10.0.0.1"}]})
    opts = dnsmasq.render(net, "tapx", "/s", dnsmasq.Settings()).files["opts"]
    assert "169.254.169.254/32,10.0.0.1,0.0.0.0/0,10.0.0.1" in opts


def test_host_routes_dns_and_no_gateway():
    net = network(subnet={"gateway_ip": None, "dns_nameservers": ["9.9.9.9"],
                          "host_routes": [{"destination": "192.168.0.0/16",
                                           "nexthop": "10.0.0.254"}]})
    config = dnsmasq.render(net, "tapx", "/s", dnsmasq.Settings(dns_servers=("1.1.1.1",),
                                                                  isolated_metadata=False))
    opts = config.files["opts"]
    assert f"tag:subnet-{SUB},option:router\n" in opts  # no router offered
    assert f"tag:subnet-{SUB},option:dns-server,9.9.9.9" in opts
    assert "classless-static-route,192.168.0.0/16,10.0.0.254\n" in opts
    assert "--server=1.1.1.1" in config.args


def test_subnets_without_dhcp_and_ipv6_are_left_out():
    net = network(subnet={"enable_dhcp": False})
    config = dnsmasq.render(net, "tapx", "/s", dnsmasq.Settings())
    assert config.files["host"] == ""
    assert not any(a.startswith("--dhcp-range") for a in config.args)


def test_bad_data_is_refused():
    net = network()
    net["ports"][1]["mac_address"] = "fa:16:3e:00:00:05\n--dhcp-script=/bin/sh"
    with pytest.raises(InvalidInput):
        dnsmasq.render(net, "tapx", "/s", dnsmasq.Settings())


def test_state_dir_must_be_traversable(tmp_path):
    tmp_path.chmod(0o755)
    closed = tmp_path / "closed"
    (closed / "net").mkdir(parents=True)
    closed.chmod(0o700)
    with pytest.raises(HostCommandError, match="o\\+x"):
        dnsmasq.check_traversable(str(closed / "net"))
    closed.chmod(0o711)
    if all(os.stat(p).st_mode & 0o001 for p in tmp_path.parents):
        dnsmasq.check_traversable(str(closed / "net"))
